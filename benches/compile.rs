//! How long compiling one bundle takes in-process: `compile::compile` (read config.json, parse,
//! translate, downgrade, check) then `render::unit::render`. The goal is under 1 ms per bundle;
//! `benches/compile-process.sh` measures a whole `ociunit compile` process (goal: under 5 ms).
//!
//! `cargo bench --bench compile [FILTER]`. A plain `harness = false` main: for each bundle it
//! warms up, then times batches and prints the best and the median time per compilation.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ociunit::compile::{self, Request};
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
/// The goal from the issue.
const GOAL: Duration = Duration::from_millis(1);

fn once(path: &Path, request: &Request, launcher: &Path) -> usize {
    let (plan, warnings) = compile::compile(path, request, false).expect("the bundle compiles");
    let text = unit::render(&plan, launcher).expect("the unit renders");
    black_box(&warnings);
    black_box(text).len()
}

fn main() {
    // `cargo bench` passes `--bench`; anything else that is not an option filters bundles.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles");
    let launcher = PathBuf::from(LAUNCHER);
    let mut slow = Vec::new();
    println!(
        "{:<32} {:>12} {:>12} {:>10}",
        "bundle (target)", "best", "median", "iters"
    );
    for &(bundle, manager, systemd) in BUNDLES {
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
        let path = root.join(bundle);
        let request = Request {
            name: None,
            target: Target { manager, systemd },
            best_effort: false,
            manager_uid: 1000,
            container: Default::default(),
        };

        // Warm up, and size a batch so that BATCHES batches take about MEASURE.
        let start = Instant::now();
        let mut iterations = 0u32;
        while start.elapsed() < WARM_UP {
            once(&path, &request, &launcher);
            iterations += 1;
        }
        let per_iteration = start.elapsed() / iterations;
        let batch = (MEASURE / BATCHES as u32)
            .as_nanos()
            .checked_div(per_iteration.as_nanos())
            .unwrap_or(1)
            .clamp(1, 1_000_000) as u32;

        let mut samples: Vec<Duration> = (0..BATCHES)
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
            u64::from(batch) * BATCHES as u64
        );
        if median > GOAL {
            slow.push(label);
        }
    }
    if slow.is_empty() {
        println!("every bundle compiles in under {GOAL:?} (median)");
    } else {
        println!("over the {GOAL:?} goal (median): {}", slow.join(", "));
    }
}
