//! `ociunit generate`, the systemd generator, through the real binary over a directory of
//! declared bundles: one that compiles in host mode and is enabled for two targets, one linked
//! from the corpus, one in container mode (a stand-in `crun` on `PATH`, `--runtime-version`
//! so nothing is run), one that does not compile and is enabled, a dangling link, and entries
//! that are not bundles.
//!
//! `snapshots/generator@*.snap` hold the whole output directory (each file, each link), the
//! log and the `--dry-run --json` document, with the scratch directory as `[SCRATCH]` and the
//! repository as `[REPO]`; review them as
//! tests/snapshots.rs says.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::test::{OCIUNIT, SYSTEM_257, Test, repo};

/// The stand-in `crun`, and the declared bundles in `bundles`.
fn scratch(bundles: &str) -> Test {
    let test = Test::new().stand_in_crun();
    declare(&test, bundles);
    test
}

fn declare(test: &Test, dir: &str) {
    let bundle = |name: &str, from: &str, enable: Option<&str>| {
        let bundle = test.copy_bundle(from, &format!("{dir}/{name}"));
        if let Some(targets) = enable {
            fs::write(bundle.join("enable"), targets).unwrap();
        }
        bundle
    };
    bundle(
        "host",
        "rich",
        Some("multi-user.target\n# and\ngraphical.target\n"),
    );
    let container = bundle("container", "container-crun", Some(""));
    fs::create_dir(container.join("rootfs")).unwrap();
    fs::write(container.join("rootfs/sh"), "").unwrap();
    let bad = bundle("bad", "minimal", Some(""));
    fs::write(
        bad.join("config.json"),
        r#"{"ociVersion": "1.0.2", "process": {"args": ["x"], "cwd": "/"},
            "linux": {"resources": {"memory": {"limit": "1G"}}}}"#,
    )
    .unwrap();
    let dir = test.path(dir);
    std::os::unix::fs::symlink(crate::test::bundle("minimal"), dir.join("minimal")).unwrap();
    std::os::unix::fs::symlink(test.path("nowhere"), dir.join("dangling")).unwrap();
    fs::write(dir.join("README"), "not a bundle\n").unwrap();
    fs::create_dir(dir.join(".hidden")).unwrap();
}

/// `ociunit generate` for the system manager of systemd 257.
fn generate(test: &Test, args: &[&str]) -> Test {
    test.clone()
        .arg("generate")
        .args(SYSTEM_257)
        .arg("--bundles")
        .arg(test.path("bundles"))
        .args(args)
}

/// Every file and link below `dir`, sorted, as `--- PATH` and its contents or target.
fn tree(dir: &Path) -> String {
    let mut paths = BTreeSet::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                todo.push(path);
            } else {
                paths.insert(path);
            }
        }
    }
    let mut out = String::new();
    for path in paths {
        let shown = path.strip_prefix(dir).unwrap().display().to_string();
        if let Ok(target) = fs::read_link(&path) {
            let _ = writeln!(out, "--- {shown} -> {}", target.display());
        } else {
            let _ = writeln!(out, "--- {shown}");
            out.push_str(&fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// The output directory as systemd would load it, and the log: a unit per bundle, the invalid
/// one failing with the compiler's messages, the links the `enable` files ask for, the
/// container's config beside the units. Exit 2, since a bundle is invalid.
#[test]
fn a_directory_of_bundles_becomes_units() {
    let test = scratch("bundles");
    let out = test.path("out");
    let (early, late) = (test.path("early"), test.path("late"));
    let dirs = [&out, &early, &late].map(|d| d.to_str().unwrap().to_owned());
    let result = generate(&test, &dirs.each_ref().map(String::as_str))
        .status(2)
        .stdout("")
        .run();
    let tree = tree(&out);
    for file in [
        "--- bad.service\n",
        "--- container.service\n",
        "--- dangling.service\n",
        "--- host.service\n",
        "--- minimal.service\n",
        "--- ociunit/container/config.json\n",
        "--- graphical.target.wants/host.service -> ../host.service\n",
        "--- multi-user.target.wants/bad.service -> ../bad.service\n",
    ] {
        assert!(tree.contains(file), "no {file}in\n{tree}");
    }
    assert!(
        !tree.contains("README") && !tree.contains("hidden"),
        "{tree}"
    );
    assert!(
        !early.exists() && !late.exists(),
        "only NORMAL_DIR is written"
    );
    // The failing units are units systemd loads without a word (the others are compile's own,
    // which tests/verify.rs checks).
    for unit in ["bad.service", "dangling.service"] {
        // Alone in a directory: systemd-analyze loads every unit beside it.
        let alone = tempfile::tempdir().unwrap();
        fs::copy(out.join(unit), alone.path().join(unit)).unwrap();
        let verify = Command::new("systemd-analyze")
            .args(["verify", "--man=no", unit])
            .current_dir(alone.path())
            .output();
        if let Ok(verify) = verify {
            let said = String::from_utf8_lossy(&verify.stderr);
            assert!(verify.status.success(), "{unit}: {said}");
            assert!(
                said.is_empty() && verify.stdout.is_empty(),
                "{unit}: {said}"
            );
        }
    }
    test.snapshot("generator@system", &tree);
    test.snapshot("generator@system-log", &result.stderr);
}

/// `--dry-run` writes nothing and prints every unit the real run writes, and every error.
#[test]
fn dry_run_prints_what_it_would_write() {
    let test = scratch("bundles");
    let out = test.path("out");
    let dry = generate(&test, &["--dry-run", out.to_str().unwrap()])
        .status(2)
        .stdout_contains(format!(
            "--- {}/multi-user.target.wants/container.service -> ../container.service\n",
            out.display()
        ))
        .run();
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
    let printed = &dry.stdout;
    generate(&test, &[out.to_str().unwrap()])
        .stderr(dry.stderr.clone())
        .run();
    for unit in ["bad", "container", "dangling", "host", "minimal"] {
        let path = out.join(format!("{unit}.service"));
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            printed.contains(&format!("--- {}\n{text}", path.display())),
            "{unit}: not in\n{printed}"
        );
    }
    let log = &dry.stderr;
    assert!(log.contains("linux.resources.memory.limit"), "{log}");
    assert!(log.contains("dangling"), "{log}");
    assert!(log.contains("README: skipped"), "{log}");
}

/// As systemd runs it for a user manager: the `ociunit-generator` link, three directories, the
/// scope from `$SYSTEMD_SCOPE`, the bundles from `$XDG_CONFIG_HOME/ociunit/bundles`, the launcher
/// beside the binary; nothing written outside the output directory.
#[test]
fn systemd_runs_it_by_its_link_name() {
    let test = scratch("config/ociunit/bundles");
    let link = test.path("bin/ociunit-generator");
    std::os::unix::fs::symlink(OCIUNIT, &link).unwrap();
    let out = test.path("out");
    let home = test.path("home");
    test.clone()
        .program(&link)
        .arg(&out)
        .args(["/nonexistent/early", "/nonexistent/late"])
        .env("SYSTEMD_SCOPE", "user")
        .env("XDG_CONFIG_HOME", test.path("config"))
        .env("HOME", &home)
        .status(2)
        .run();
    let unit = fs::read_to_string(out.join("container.service")).unwrap();
    let launcher = Path::new(OCIUNIT).with_file_name("ociunit-launch");
    assert!(unit.contains("Manager=user\n"), "{unit}");
    assert!(
        unit.contains(&format!("ExecStart={}", launcher.display())),
        "{unit}"
    );
    let config = out.join("ociunit/container/config.json");
    assert!(
        unit.contains(&format!("RuntimeConfig={}\n", config.display())),
        "{unit}"
    );
    assert!(config.is_file());
    assert_eq!(
        fs::read_link(out.join("default.target.wants/container.service")).unwrap(),
        Path::new("../container.service")
    );
    assert!(!home.exists(), "wrote into the state directory");
    let written: BTreeSet<String> = fs::read_dir(test.scratch())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, ["bin", "config", "out"].map(String::from).into());
}

/// Without an output directory, only `--dry-run` makes sense.
#[test]
fn the_output_directory_is_required() {
    let test = scratch("bundles");
    generate(&test, &[])
        .status(2)
        .stderr_contains("NORMAL_DIR")
        .run();
}

/// tests/snapshots.rs leaves `generator@*` to this file: each one must be a snapshot it takes.
#[test]
fn no_stray_generator_snapshots() {
    let expected = [
        "generator@system.snap",
        "generator@system-log.snap",
        "generator@dry-run-json.snap",
    ];
    let stray: Vec<String> = fs::read_dir(repo().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("generator@") && !expected.contains(&name.as_str()))
        .collect();
    assert!(stray.is_empty(), "stray snapshots: {stray:?}");
}

/// `--dry-run --json`: every unit the text form prints (the same text), whether its bundle
/// compiles, its links and the runtime's config; the log's errors and warnings; exit 2 still.
#[test]
fn dry_run_json_lists_every_unit_and_error() {
    let test = scratch("bundles");
    let out = test.path("out");
    let dry = generate(&test, &["--dry-run", out.to_str().unwrap()]).run();
    let json = generate(&test, &["--dry-run", "--json", out.to_str().unwrap()])
        .status(2)
        .run();
    assert_eq!(json.stderr, dry.stderr, "--json changes only stdout");
    let mut report = json.json();
    assert_eq!(report["format"], "ociunit-generate/1");
    for unit in report["units"].as_array_mut().unwrap() {
        let text = unit.as_object_mut().unwrap().remove("text").unwrap();
        let path = unit["path"].as_str().unwrap();
        assert!(
            dry.stdout
                .contains(&format!("--- {path}\n{}", text.as_str().unwrap())),
            "{path}: not as the text form prints it"
        );
    }
    let mut logged: Vec<String> = Vec::new();
    for (key, prefix) in [("errors", ""), ("warnings", "warning: ")] {
        for line in report[key].as_array().unwrap() {
            logged.push(format!("ociunit: {prefix}{}", line.as_str().unwrap()));
        }
    }
    let mut lines: Vec<&str> = dry.stderr.lines().collect();
    lines.sort_unstable();
    logged.sort();
    assert_eq!(lines, logged, "the log, sorted");
    test.snapshot(
        "generator@dry-run-json",
        &serde_json::to_string_pretty(&report).unwrap(),
    );
}
