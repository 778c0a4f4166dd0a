//! `--json` through the real binary, for every command that reports something and needs no
//! bus to do it: each document names its schema in `format` (README, "JSON output"), goes to
//! stdout alone, and leaves stderr and the exit status as they are without `--json`. Where the
//! output is stable, `snapshots/json@*.snap` hold it, with the scratch directory as `[SCRATCH]`
//! and the repository as `[REPO]`; review them as tests/snapshots.rs says.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::test::{Output, SYSTEM_257, Test, repo};

/// A scratch directory with the stand-in `crun` and the unit directory `units/`.
fn scratch() -> Test {
    let test = Test::new().stand_in_crun();
    fs::create_dir(test.path("units")).unwrap();
    test
}

/// `ociunit COMMAND BUNDLE` for the system manager of systemd 257, with the scratch state and
/// unit directories, then `extra`.
fn compiling(test: &Test, command: &str, bundle: &Path, extra: &[&str]) -> Test {
    let units = test.path("units");
    let mut compiling = test
        .clone()
        .arg(command)
        .arg(bundle)
        .args(SYSTEM_257)
        .arg("--state-dir")
        .arg(test.path("state"));
    if command != "compile" {
        compiling = compiling.arg("--unit-dir").arg(units);
    }
    compiling.args(extra)
}

/// The corpus bundle `name`, or a copy of it with a root file system (container mode).
fn bundle(test: &Test, name: &str, container: bool) -> PathBuf {
    if !container {
        return crate::test::bundle(name);
    }
    test.write(&format!("{name}/rootfs/sh"), "");
    test.copy_bundle(name, name)
}

/// The command failed with `code`, saying `message` on stderr and, as `--json` asked, in an
/// error document on stdout.
fn assert_fails(run: &Output, code: i32, message: &str) {
    assert_eq!(run.status, Some(code), "{}", run.stderr);
    assert!(run.stderr.contains(message), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["format"], "ociunit-error/1", "{json:#}");
    assert_eq!(json["error"]["exit_code"], code, "{json:#}");
    let said = json["error"]["message"].as_str().unwrap_or_default();
    assert!(said.contains(message), "{json:#}");
}

fn snapshot(test: &Test, name: &str, json: &Value) {
    test.snapshot(name, &serde_json::to_string_pretty(json).unwrap());
}

/// Without -o the unit is in the document; the warnings are in it and still on stderr.
#[test]
fn compile_to_stdout() {
    let test = scratch();
    let run = compiling(
        &test,
        "compile",
        &bundle(&test, "seccomp-args", false),
        &["--runtime", "none", "--json"],
    )
    .status(0)
    .run();
    let json = run.json();
    assert_eq!(json["format"], "ociunit-compile/1");
    assert_eq!(json["path"], Value::Null);
    assert!(
        json["text"].as_str().unwrap().contains("[X-Ociunit]"),
        "{json:#}"
    );
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{json:#}");
    for warning in warnings {
        assert!(
            run.stderr
                .contains(&format!("warning: {}", warning.as_str().unwrap())),
            "{}",
            run.stderr
        );
    }
    snapshot(&test, "json@compile-stdout", &json);
}

/// With -o: the unit's path, the runtime's config it names, and the backup `--force` kept of
/// a file ociunit did not write; no unit text.
#[test]
fn compile_to_a_file_in_container_mode() {
    let test = scratch();
    let unit = test.write("units/web.service", "[Service]\nExecStart=/bin/mine\n");
    let bundle = bundle(&test, "container-crun", true);
    let args = ["--name", "web", "--json", "-o", unit.to_str().unwrap()];
    let compile = compiling(&test, "compile", &bundle, &args);
    assert_fails(&compile.clone().run(), 1, "refusing to replace");

    let json = compile.arg("--force").status(0).run().json();
    assert_eq!(json["path"], unit.to_str().unwrap());
    assert_eq!(json.get("text"), None);
    let config = json["runtime_config"].as_str().unwrap();
    assert!(Path::new(config).is_file(), "{config}");
    let backup = json["backup"].as_str().unwrap();
    assert_eq!(
        fs::read_to_string(backup).unwrap(),
        "[Service]\nExecStart=/bin/mine\n"
    );
    snapshot(&test, "json@compile-file-container", &json);
}

/// diff: 1 and the diffs while the unit and the runtime's config are not installed, 0 once
/// they are; an error exits 2 (never 1, which means "different") with nothing on stdout.
#[test]
fn diff_reports_each_file() {
    let test = scratch();
    let bundle = bundle(&test, "container-crun", true);
    let diff = compiling(&test, "diff", &bundle, &["--json"]);
    let json = diff.clone().status(1).run().json();
    assert_eq!(json["format"], "ociunit-diff/1");
    assert_eq!(json["different"], true);
    let files = json["files"].as_array().unwrap();
    assert_eq!(
        files.len(),
        2,
        "the unit and the runtime's config: {json:#}"
    );
    for file in files {
        assert_eq!(file["exists"], false);
        assert!(
            file["diff"]
                .as_str()
                .unwrap()
                .starts_with("--- /dev/null\n"),
            "{file:#}"
        );
    }

    let unit = test.path("units/container-crun.service");
    compiling(&test, "compile", &bundle, &["-o", unit.to_str().unwrap()])
        .status(0)
        .run();
    let json = diff.clone().status(0).run().json();
    assert_eq!(json["different"], false);
    snapshot(&test, "json@diff-same", &json);

    fs::write(bundle.join("config.json"), "{").unwrap();
    assert_fails(&diff.run(), 2, "config.json:");
}

/// diff exits 2 for a host error too, as diff(1) does.
#[test]
fn diff_exits_2_when_it_cannot_read_the_unit() {
    let test = scratch();
    fs::create_dir(test.path("units/minimal.service")).unwrap();
    for json in [&["--json"][..], &[]] {
        let run = compiling(
            &test,
            "diff",
            &bundle(&test, "minimal", false),
            &[&["--runtime", "none"], json].concat(),
        )
        .run();
        if json.is_empty() {
            assert_eq!(run.status, Some(2), "{}", run.stderr);
        } else {
            assert_fails(&run, 2, "a directory, not a regular file");
        }
    }
}

/// install --dry-run: the files and the calls it would make, and nothing written.
#[test]
fn install_dry_run() {
    let test = scratch();
    let bundle = bundle(&test, "container-crun", true);
    let install = compiling(
        &test,
        "install",
        &bundle,
        &["--dry-run", "--enable", "--now"],
    );
    let json = install.clone().arg("--json").status(0).run().json();
    assert_eq!(json["format"], "ociunit-install/1");
    assert_eq!(fs::read_dir(test.path("units")).unwrap().count(), 0);
    assert!(!test.path("state").exists(), "nothing written");
    snapshot(&test, "json@install-dry-run", &json);

    let text = install.run();
    assert!(
        text.stdout.ends_with(
            "would call RestartUnit(\"container-crun.service\", \"replace\") and wait for the job\n"
        ),
        "{}",
        text.stdout
    );
}

/// list gives its array a format too; an unknown unit is refused before the bus is needed.
#[test]
fn list_and_the_error_paths_of_status_and_uninstall() {
    let test = scratch();
    let bundle = bundle(&test, "minimal", false);
    let unit = test.path("units/minimal.service");
    compiling(
        &test,
        "compile",
        &bundle,
        &["--runtime", "none", "-o", unit.to_str().unwrap()],
    )
    .status(0)
    .run();
    let units = test.path("units");
    let units = units.to_str().unwrap();
    let json = test
        .clone()
        .args(["list", "--system", "--unit-dir", units, "--json"])
        .status(0)
        .run()
        .json();
    assert_eq!(json["format"], "ociunit-list/1");
    assert_eq!(json["units"][0]["unit"], "minimal.service", "{json:#}");
    assert_eq!(json["units"][0]["source_state"], "current", "{json:#}");

    let uninstall = |name: &str| {
        test.clone()
            .args(["uninstall", name, "--system", "--unit-dir", units, "--json"])
    };
    assert_fails(&uninstall("nothing").run(), 4, "could not be found");

    test.write("units/mine.service", "[Service]\nExecStart=/bin/mine\n");
    assert_fails(&uninstall("mine").run(), 1, "not generated by ociunit");

    let run = test.clone().args(["status", ".service", "--json"]).run();
    assert_fails(&run, 2, "does not make a unit name");
    // The user manager of whoever runs the tests, if there is one, says it has no such unit, as
    // `systemctl status` exits 4 for one.
    let run = test
        .clone()
        .args(["status", "ociunit-json-test-nothing", "--user", "--json"])
        .host_environment()
        .run();
    match run.status {
        Some(4) => assert_fails(&run, 4, "could not be found"),
        _ => assert_fails(&run, 1, "cannot reach"),
    }
}

/// doctor's document names its format whether or not the host passes.
#[test]
fn doctor_names_its_format() {
    let run = scratch().args(["doctor", "--system", "--json"]).run();
    assert!(matches!(run.status, Some(0 | 1)), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["format"], "ociunit-doctor/1");
    assert!(json["checks"].as_array().is_some_and(|c| !c.is_empty()));
}

/// tests/snapshots.rs leaves `json@*` to this file: each one must be a snapshot it takes.
#[test]
fn no_stray_json_snapshots() {
    let expected = [
        "json@compile-stdout.snap",
        "json@compile-file-container.snap",
        "json@diff-same.snap",
        "json@install-dry-run.snap",
    ];
    let stray: Vec<String> = fs::read_dir(repo().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("json@") && !expected.contains(&name.as_str()))
        .collect();
    assert!(stray.is_empty(), "stray snapshots: {stray:?}");
}
