//! How long compiling one bundle takes in-process: `compile::compile` (read config.json, parse,
//! translate, downgrade, check) then `render::unit::render`. The goal is under 1 ms per bundle,
//! and under 1 s for a generated list of 100 000 device rules (the size where quadratic rule
//! handling took minutes); `benches/compile-process.sh` measures a whole `ociunit compile`
//! process (goal: under 5 ms).
//!
//! `cargo bench --bench compile [FILTER]`. A plain `harness = false` main: for each bundle it
//! warms up, then times batches and prints the best and the median time per compilation.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ociunit::bundle::Bundle;
use ociunit::compile::{self, Context, Request};
use ociunit::render::unit;
use ociunit::target::{Manager, Target};

/// Realistic bundles from the snapshot corpus, from small to large.
const BUNDLES: &[(&str, Manager, u32)] = &[
    ("runc-spec", Manager::System, 252),
    ("runc-spec-rootless", Manager::User, 252),
    ("spec-example", Manager::System, 252),
    ("rich", Manager::System, 239),
    ("rich", Manager::System, 257),
    ("escaping", Manager::System, 252),
];

const LAUNCHER: &str = "/usr/libexec/ociunit-launch";
/// Time spent per bundle before measuring, and measuring.
const WARM_UP: Duration = Duration::from_millis(300);
const MEASURE: Duration = Duration::from_secs(2);
const BATCHES: usize = 50;
/// Fewer batches for a bundle that takes longer than MEASURE / BATCHES, but at least these.
const MIN_BATCHES: usize = 5;
/// The goal from the issue.
const GOAL: Duration = Duration::from_millis(1);
/// The generated bundle: how many device rules, and its goal.
const DEVICE_RULES: usize = 100_000;
const DEVICE_RULES_GOAL: Duration = Duration::from_secs(1);

/// A bundle with "deny all" and then `count` device rules, as a generated device list looks:
/// allows of distinct character and block devices, every fourth rule a deny that takes write
/// access back from the device before it.
fn device_rules_bundle(dir: &Path, count: usize) {
    let deny_all = serde_json::json!({ "allow": false, "access": "rwm" });
    let rules: Vec<serde_json::Value> = std::iter::once(deny_all)
        .chain((0..count).map(|i| {
            let (major, minor) = (200 + i / 256, i % 256);
            match i % 4 {
                3 => serde_json::json!({
                    "allow": false, "type": "c", "major": major, "minor": minor - 1, "access": "w"
                }),
                k => serde_json::json!({
                    "allow": true, "type": if k == 0 { "b" } else { "c" },
                    "major": major, "minor": minor, "access": "rwm"
                }),
            }
        }))
        .collect();
    let config = serde_json::json!({
        "ociVersion": "1.2.0",
        "process": { "user": { "uid": 0, "gid": 0 }, "args": ["/bin/true"], "cwd": "/" },
        "linux": { "resources": { "devices": rules } }
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("cannot write the bundle");
}

fn once(path: &Path, request: &Request, launcher: &Path) -> usize {
    let context = Context {
        manager_uid: 1000,
        ..Context::installed(request)
    };
    let bundle = Bundle::load(path).expect("the bundle loads");
    let (plan, _) = compile::with_warnings(&bundle, request, &context).expect("it compiles");
    let text = unit::render(&plan, launcher).expect("the unit renders");
    black_box(text).len()
}

fn main() {
    // `cargo bench` passes `--bench`; anything else that is not an option filters bundles.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles");
    let generated = tempfile::tempdir().expect("cannot make a temporary directory");
    let devices = generated.path().join("device-rules");
    std::fs::create_dir(&devices).expect("cannot make the bundle directory");
    device_rules_bundle(&devices, DEVICE_RULES);
    let cases = BUNDLES
        .iter()
        .map(|&(bundle, manager, systemd)| {
            (bundle.to_owned(), root.join(bundle), manager, systemd, GOAL)
        })
        .chain([(
            format!("{DEVICE_RULES} device rules"),
            devices,
            Manager::System,
            252,
            DEVICE_RULES_GOAL,
        )]);
    let launcher = PathBuf::from(LAUNCHER);
    let mut slow = Vec::new();
    println!(
        "{:<32} {:>12} {:>12} {:>10}",
        "bundle (target)", "best", "median", "iters"
    );
    for (bundle, path, manager, systemd, goal) in cases {
        let label = format!(
            "{bundle} ({}, {systemd})",
            match manager {
                Manager::System => "system",
                Manager::User => "user",
            }
        );
        if filter.as_deref().is_some_and(|f| !label.contains(f)) {
            continue;
        }
        let request = Request::new(Target { manager, systemd });
        // Warm up, and size a batch so that BATCHES batches take about MEASURE (one compilation
        // a batch, and fewer batches, for a bundle slower than that).
        let start = Instant::now();
        let mut iterations = 0u32;
        while start.elapsed() < WARM_UP {
            once(&path, &request, &launcher);
            iterations += 1;
        }
        let per_iteration = start.elapsed() / iterations;
        let batch = (MEASURE / u32::try_from(BATCHES).expect("BATCHES fits in u32"))
            .as_nanos()
            .checked_div(per_iteration.as_nanos())
            .unwrap_or(1)
            .clamp(1, 1_000_000) as u32;

        let batches = (MEASURE.as_nanos() / per_iteration.as_nanos().max(1))
            .clamp(MIN_BATCHES as u128, BATCHES as u128) as usize;
        let mut samples: Vec<Duration> = (0..batches)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..batch {
                    once(&path, &request, &launcher);
                }
                start.elapsed() / batch
            })
            .collect();
        samples.sort();
        let (best, median) = (samples[0], samples[samples.len() / 2]);
        println!(
            "{label:<32} {:>9.1} µs {:>9.1} µs {:>10}",
            best.as_secs_f64() * 1e6,
            median.as_secs_f64() * 1e6,
            u64::from(batch) * batches as u64
        );
        if median > goal {
            slow.push(format!("{label} (goal {goal:?})"));
        }
    }
    if slow.is_empty() {
        println!(
            "every bundle compiles within its goal (median): {GOAL:?}, {DEVICE_RULES_GOAL:?} for the device rules"
        );
    } else {
        println!("over the goal (median): {}", slow.join(", "));
    }
}
