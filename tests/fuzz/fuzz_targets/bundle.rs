//! Any bytes as `config.json`, through the whole pipeline: bundle → plan (host mode, and
//! container mode with crun and with runc, for a user and for the system manager) → unit file,
//! explain text and JSON, D-Bus properties of a transient service and scope.
//!
//! Nothing may panic. A plan that compiles must render; the unit must be one systemd reads
//! as written (every line a setting, `ExecStart=` the launcher with exactly the arguments of the
//! plan's launch spec, which the launcher parses back to that spec) and one ociunit's own
//! `[X-Ociunit]` reader recognises as its untouched output.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use ociunit::bundle::Bundle;
use ociunit::compile::{self, ConfigHome, Context, Request};
use ociunit::launch::grammar::{Invocation, LaunchSpec};
use ociunit::plan::property::DbusValue;
use ociunit::plan::{Plan, Spawner};
use ociunit::render::dbus::{self, RunOptions, Transient};
use ociunit::render::{explain, systemd_reading, unit};
use ociunit::runtime::{Kind, Mode, Runtime};
use ociunit::target::{Manager, Target};
use ociunit::unit_file::{self, Ownership};

/// A bundle directory whose name needs escaping in a unit name, a description and a record.
const CONFIG: &str = "/srv/fuzz %n $HOME bundle/config.json";
const LAUNCHER: &str = "/usr/libexec/ociunit-launch";
const VERSIONS: [u32; 3] = [239, 252, 257];

fn mode(runtime: Option<Kind>) -> Mode {
    match runtime {
        None => Mode::Host {
            why: "fuzzing".into(),
        },
        Some(kind) => Mode::Container {
            runtime: Runtime {
                kind,
                path: PathBuf::from(format!("/usr/bin/{}", kind.name())),
                version: match kind {
                    Kind::Crun => "1.8.1".into(),
                    Kind::Runc => "1.1.15".into(),
                },
            },
            why: "fuzzing".into(),
        },
    }
}

/// What `ociunit compile` asks for by default, with the mode already decided (so that nothing
/// looks at the file system or runs a runtime).
fn request(manager: Manager, systemd: u32, runtime: Option<Kind>) -> (Request, Context) {
    let context = Context {
        manager_uid: 1000,
        home: ConfigHome::Persistent(Some("/var/lib/ociunit".into())),
        unit: None,
        terminal: false,
        mode: Some(mode(runtime)),
    };
    (Request::new(Target { manager, systemd }), context)
}

fn check_unit(plan: &Plan) {
    let text = unit::render(plan, Path::new(LAUNCHER)).expect("a checked plan renders");
    match unit_file::inspect(&text) {
        Ownership::Generated(record) => {
            assert_eq!(record.source, plan.source.config);
            assert_eq!(record.config_sha256, plan.source.sha256);
        }
        other => panic!("not recognised as generated: {other:?}\n{text}"),
    }
    let words = systemd_reading::exec_start(&text)
        .unwrap_or_else(|why| panic!("systemd does not read the unit as written: {why}\n{text}"));
    let spec = plan.launch_spec(Spawner::Systemd).0;
    let mut expected = vec![LAUNCHER.to_owned()];
    expected.extend(spec.to_args());
    let expected: Vec<Vec<u8>> = expected.into_iter().map(String::into_bytes).collect();
    assert_eq!(words, expected, "{text}");
    let args = words[1..]
        .iter()
        .map(|w| String::from_utf8(w.clone()).unwrap());
    assert_eq!(
        LaunchSpec::parse(args),
        Ok(Invocation::Launch(Box::new(spec)))
    );
}

/// systemd expands `$VAR` in an ExecStart= received over the bus too: the argv must undo to
/// the launch spec's arguments with every `$` doubled.
fn check_dbus(plan: &Plan) {
    let options = RunOptions::default();
    let service = dbus::properties(
        plan,
        &Transient::Service {
            launcher: Path::new(LAUNCHER),
        },
        &options,
    );
    let exec_start = service.iter().find(|p| p.name == "ExecStart");
    let Some(DbusValue::Commands(commands)) = exec_start.map(|p| &p.value) else {
        panic!("no ExecStart in {service:?}");
    };
    let [(path, argv, false)] = commands.as_slice() else {
        panic!("not one command: {commands:?}");
    };
    assert_eq!(path, LAUNCHER);
    let spec = plan.launch_spec(Spawner::Systemd).0;
    let undone: Vec<String> = argv[1..].iter().map(|a| a.replace("$$", "$")).collect();
    assert_eq!(undone, spec.to_args());
    let scope = dbus::properties(plan, &Transient::Scope { pid: 1 }, &options);
    let _ = dbus::listing(&plan.unit, "fail", &service);
    let _ = dbus::listing(&plan.unit, "fail", &scope);
    let scope_spec = plan.launch_spec(Spawner::Launcher).0;
    assert_eq!(
        LaunchSpec::parse(scope_spec.to_args()),
        Ok(Invocation::Launch(Box::new(scope_spec)))
    );
}

fn compile(bundle: &Bundle, (request, context): (Request, Context)) {
    let Ok(plan) = compile::plan(bundle, &request, &context) else {
        return;
    };
    explain::text(&plan).expect("explain renders every plan");
    let json = explain::json(&plan);
    serde_json::from_str::<serde_json::Value>(&json).expect("explain --json is JSON");
    let _ = compile::check(&plan, true);
    if compile::check(&plan, false).is_ok() {
        check_unit(&plan);
        check_dbus(&plan);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::parse(PathBuf::from(CONFIG), data.to_vec()) else {
        return;
    };
    let user = VERSIONS[data.len() % 3];
    let system = VERSIONS[data.len() / 3 % 3];
    for (manager, systemd) in [(Manager::User, user), (Manager::System, system)] {
        for runtime in [None, Some(Kind::Crun), Some(Kind::Runc)] {
            compile(&bundle, request(manager, systemd, runtime));
        }
    }
});
