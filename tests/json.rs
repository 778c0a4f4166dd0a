//! `--json` through the real binary, for every command that reports something and needs no
//! bus to do it: each document names its schema in `format` (README, "JSON output"), goes to
//! stdout alone, and leaves stderr and the exit status as they are without `--json`. Where the
//! output is stable, `snapshots/json@*.snap` hold it, with the scratch directory as `[SCRATCH]`
//! and the repository as `[REPO]`; review them as tests/snapshots.rs says.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The command failed with `code`, said `message` on stderr, and printed no document.
    /// The command failed with `code`, saying `message` on stderr and, as `--json` asked, in
    /// an error document on stdout.
    fn fails(&self, code: i32, message: &str) {
        assert_eq!(self.code, Some(code), "{}", self.stderr);
        assert!(self.stderr.contains(message), "{}", self.stderr);
        let json = self.json();
        assert_eq!(json["format"], "ociunit-error/1", "{json:#}");
        assert_eq!(json["error"]["exit_code"], code, "{json:#}");
        let said = json["error"]["message"].as_str().unwrap_or_default();
        assert!(said.contains(message), "{json:#}");
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("{err}: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// A scratch directory with a stand-in `crun` on `bin/` (it only says its version, which
/// `--runtime-version` makes unneeded) and the unit directory `units/`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let scratch = Scratch {
            dir: tempfile::tempdir().unwrap(),
        };
        common::stand_in_crun(&scratch.path("bin"));
        fs::create_dir(scratch.path("units")).unwrap();
        scratch
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `ociunit ARGS`, with the stand-in first on `PATH`.
    fn ociunit(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_ociunit"))
            .args(args)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path("bin").display()),
            )
            .output()
            .expect("cannot run ociunit");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// `ociunit COMMAND BUNDLE` for the system manager of systemd 257, with the scratch state
    /// and unit directories, then `extra`.
    fn compiling(&self, command: &str, bundle: &Path, extra: &[&str]) -> Run {
        let units = self.path("units");
        let state = self.path("state");
        let mut args = vec![command, bundle.to_str().unwrap()];
        args.extend(common::SYSTEM_257);
        args.extend(["--state-dir", state.to_str().unwrap()]);
        if command != "compile" {
            args.extend(["--unit-dir", units.to_str().unwrap()]);
        }
        args.extend(extra);
        self.ociunit(&args)
    }

    /// The corpus bundle `name`, or a copy of it with a root file system (container mode).
    fn bundle(&self, name: &str, container: bool) -> PathBuf {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bundles")
            .join(name);
        if !container {
            return corpus;
        }
        let bundle = self.path(name);
        fs::create_dir_all(bundle.join("rootfs")).unwrap();
        fs::write(bundle.join("rootfs/sh"), "").unwrap();
        fs::copy(corpus.join("config.json"), bundle.join("config.json")).unwrap();
        bundle
    }

    fn snapshot(&self, name: &str, json: &Value) {
        let text = serde_json::to_string_pretty(json).unwrap();
        common::snapshot(self.dir.path(), name, &text);
    }
}

/// Without -o the unit is in the document; the warnings are in it and still on stderr.
#[test]
fn compile_to_stdout() {
    let scratch = Scratch::new();
    let run = scratch.compiling(
        "compile",
        &scratch.bundle("seccomp-args", false),
        &["--runtime", "none", "--json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
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
    scratch.snapshot("json@compile-stdout", &json);
}

/// With -o: the unit's path, the runtime's config it names, and the backup `--force` kept of
/// a file ociunit did not write; no unit text.
#[test]
fn compile_to_a_file_in_container_mode() {
    let scratch = Scratch::new();
    let unit = scratch.path("units/web.service");
    fs::write(&unit, "[Service]\nExecStart=/bin/mine\n").unwrap();
    let bundle = scratch.bundle("container-crun", true);
    let args = ["--name", "web", "--json", "-o", unit.to_str().unwrap()];
    let refused = scratch.compiling("compile", &bundle, &args);
    refused.fails(1, "refusing to replace");

    let run = scratch.compiling("compile", &bundle, &[&args[..], &["--force"]].concat());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["path"], unit.to_str().unwrap());
    assert_eq!(json.get("text"), None);
    let config = json["runtime_config"].as_str().unwrap();
    assert!(Path::new(config).is_file(), "{config}");
    let backup = json["backup"].as_str().unwrap();
    assert_eq!(
        fs::read_to_string(backup).unwrap(),
        "[Service]\nExecStart=/bin/mine\n"
    );
    scratch.snapshot("json@compile-file-container", &json);
}

/// diff: 1 and the diffs while the unit and the runtime's config are not installed, 0 once
/// they are; an error exits 2 (never 1, which means "different") with nothing on stdout.
#[test]
fn diff_reports_each_file() {
    let scratch = Scratch::new();
    let bundle = scratch.bundle("container-crun", true);
    let run = scratch.compiling("diff", &bundle, &["--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = run.json();
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

    let unit = scratch.path("units/container-crun.service");
    let compiled = scratch.compiling("compile", &bundle, &["-o", unit.to_str().unwrap()]);
    assert_eq!(compiled.code, Some(0), "{}", compiled.stderr);
    let run = scratch.compiling("diff", &bundle, &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["different"], false);
    scratch.snapshot("json@diff-same", &json);

    fs::write(bundle.join("config.json"), "{").unwrap();
    let run = scratch.compiling("diff", &bundle, &["--json"]);
    run.fails(2, "config.json:");
}

/// diff exits 2 for a host error too, as diff(1) does.
#[test]
fn diff_exits_2_when_it_cannot_read_the_unit() {
    let scratch = Scratch::new();
    fs::create_dir(scratch.path("units/minimal.service")).unwrap();
    for json in [&["--json"][..], &[]] {
        let run = scratch.compiling(
            "diff",
            &scratch.bundle("minimal", false),
            &[&["--runtime", "none"], json].concat(),
        );
        match json.is_empty() {
            true => assert_eq!(run.code, Some(2), "{}", run.stderr),
            false => run.fails(2, "a directory, not a regular file"),
        }
    }
}

/// install --dry-run: the files and the calls it would make, and nothing written.
#[test]
fn install_dry_run() {
    let scratch = Scratch::new();
    let bundle = scratch.bundle("container-crun", true);
    let run = scratch.compiling(
        "install",
        &bundle,
        &["--dry-run", "--enable", "--now", "--json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["format"], "ociunit-install/1");
    assert_eq!(fs::read_dir(scratch.path("units")).unwrap().count(), 0);
    assert!(!scratch.path("state").exists(), "nothing written");
    scratch.snapshot("json@install-dry-run", &json);

    let text = scratch.compiling("install", &bundle, &["--dry-run", "--enable", "--now"]);
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
    let scratch = Scratch::new();
    let bundle = scratch.bundle("minimal", false);
    let unit = scratch.path("units/minimal.service");
    let compiled = scratch.compiling(
        "compile",
        &bundle,
        &["--runtime", "none", "-o", unit.to_str().unwrap()],
    );
    assert_eq!(compiled.code, Some(0), "{}", compiled.stderr);
    let units = scratch.path("units");
    let units = units.to_str().unwrap();
    let run = scratch.ociunit(&["list", "--system", "--unit-dir", units, "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["format"], "ociunit-list/1");
    assert_eq!(json["units"][0]["unit"], "minimal.service", "{json:#}");
    assert_eq!(json["units"][0]["source_state"], "current", "{json:#}");

    let run = scratch.ociunit(&[
        "uninstall",
        "nothing",
        "--system",
        "--unit-dir",
        units,
        "--json",
    ]);
    run.fails(4, "could not be found");

    fs::write(
        scratch.path("units/mine.service"),
        "[Service]\nExecStart=/bin/mine\n",
    )
    .unwrap();
    let run = scratch.ociunit(&[
        "uninstall",
        "mine",
        "--system",
        "--unit-dir",
        units,
        "--json",
    ]);
    run.fails(1, "not generated by ociunit");

    let run = scratch.ociunit(&["status", ".service", "--json"]);
    run.fails(2, "does not make a unit name");
    let run = scratch.ociunit(&["status", "ociunit-json-test-nothing", "--user", "--json"]);
    match run.code {
        // A user manager says it has no such unit, as `systemctl status` exits 4 for one.
        Some(4) => run.fails(4, "could not be found"),
        _ => run.fails(1, "cannot reach"),
    }
}

/// doctor's document names its format whether or not the host passes.
#[test]
fn doctor_names_its_format() {
    let scratch = Scratch::new();
    let run = scratch.ociunit(&["doctor", "--system", "--json"]);
    assert!(matches!(run.code, Some(0 | 1)), "{}", run.stderr);
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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let stray: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("json@") && !expected.contains(&name.as_str()))
        .collect();
    assert!(stray.is_empty(), "stray snapshots: {stray:?}");
}
