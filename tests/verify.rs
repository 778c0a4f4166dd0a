//! Every unit in `snapshots/unit@*.snap` passes `systemd-analyze verify` without a word.
//!
//! Each unit is written under its own name (the `unit` of `explain@CASE.snap`, else
//! `CASE.service`) into a temporary directory, with the snapshots' placeholder launcher replaced
//! by an executable that exists (systemd-analyze checks `ExecStart=`), and verified in the mode of
//! its `[X-Ociunit]` `Manager=`: `--user` units with `--user` (offline, with `XDG_RUNTIME_DIR`
//! pointing at a private temporary directory, since there is no session here). Any output on
//! stdout or stderr is a failure, as is a non-zero exit.
//!
//! A unit whose `TargetSystemd=` is newer than the local systemd-analyze uses settings this one
//! does not know (e.g. `DelegateSubgroup=` from 254), so it cannot verify silently here: those,
//! and only those, are skipped with a note; the VM suite verifies them on systemd 257.
//!
//! Without systemd-analyze the test is skipped with a message, or fails when `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::test::{BUILT_LAUNCHER, LAUNCHER, repo};

/// The snapshot's contents: what follows insta's front matter (`---` … `---`).
fn snapshot_contents(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(&rest[end + "\n---\n".len()..])
}

/// The value of `KEY=` in a unit's text.
fn setting<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
}

/// The local systemd-analyze's version, or `None` if it cannot be run.
fn local_version() -> Option<u32> {
    let output = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "systemd 252 (252.38-1~deb12u1)"
    text.split_whitespace().nth(1)?.parse().ok()
}

/// An executable to stand in for the launcher in `ExecStart=`: the built `ociunit-launch`, or
/// `/bin/true`. It must be a plain word, since it replaces an unquoted one.
fn launcher() -> String {
    let plain = |path: &str| {
        path.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c))
    };
    if Path::new(BUILT_LAUNCHER).is_file() && plain(BUILT_LAUNCHER) {
        BUILT_LAUNCHER.to_owned()
    } else {
        "/bin/true".to_owned()
    }
}

/// The unit's file name: from the explain snapshot of the same case, which records it.
fn unit_name(case: &str) -> String {
    let explain = repo().join(format!("snapshots/explain@{case}.snap"));
    std::fs::read_to_string(explain)
        .ok()
        .and_then(|text| {
            let json: serde_json::Value = serde_json::from_str(snapshot_contents(&text)?).ok()?;
            json["unit"].as_str().map(str::to_owned)
        })
        .unwrap_or_else(|| format!("{case}.service"))
}

struct Unit {
    case: String,
    name: String,
    text: String,
}

fn snapshot_units() -> Vec<Unit> {
    let mut units = Vec::new();
    let dir = repo().join("snapshots");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(case) = file
            .strip_prefix("unit@")
            .and_then(|f| f.strip_suffix(".snap"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let contents = snapshot_contents(&text)
            .unwrap_or_else(|| panic!("{file}: no insta front matter"))
            .to_owned();
        units.push(Unit {
            case: case.to_owned(),
            name: unit_name(case),
            text: contents,
        });
    }
    units
}

#[test]
fn snapshot_units_verify_silently() {
    let Some(local) = local_version() else {
        let message = "systemd-analyze is not installed: cannot verify the snapshot units";
        assert!(
            std::env::var_os("CI").is_none(),
            "{message} (CI is set, so this is a failure)"
        );
        eprintln!("SKIPPED: {message}");
        return;
    };
    let launcher = launcher();
    let units = snapshot_units();
    assert!(!units.is_empty(), "no snapshots/unit@*.snap to verify");

    let runtime = tempfile::tempdir().unwrap();
    let mut verified = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for unit in &units {
        let target: u32 = setting(&unit.text, "TargetSystemd")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("unit@{}: no TargetSystemd=", unit.case));
        if target > local {
            skipped.push(format!("{} (systemd {target})", unit.case));
            continue;
        }
        let user = match setting(&unit.text, "Manager") {
            Some("user") => true,
            Some("system") => false,
            other => panic!("unit@{}: Manager={other:?}", unit.case),
        };
        assert!(
            unit.text.contains(LAUNCHER),
            "unit@{}: does not use the placeholder launcher {LAUNCHER}",
            unit.case
        );
        assert!(unit.name.ends_with(".service"), "{}", unit.name);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(&unit.name);
        std::fs::write(&path, unit.text.replace(LAUNCHER, &launcher)).unwrap();
        let mut command = Command::new("systemd-analyze");
        command.arg("verify").arg("--man=no");
        if user {
            command.arg("--user").env("XDG_RUNTIME_DIR", runtime.path());
        }
        let output = command
            .arg(&path)
            .current_dir(dir.path())
            .output()
            .expect("cannot run systemd-analyze");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() && said.is_empty() {
            verified += 1;
        } else {
            failures.push(format!(
                "unit@{} ({}, {}): {}\n{}",
                unit.case,
                unit.name,
                if user { "--user" } else { "system" },
                output.status,
                said.trim_end()
            ));
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "note: not verified here, newer than the local systemd {local} (the VM suite verifies \
             them): {}",
            skipped.join(", ")
        );
    }
    eprintln!(
        "verified {verified} of {} units with systemd-analyze {local}, launcher {launcher}",
        units.len()
    );
    assert!(
        failures.is_empty(),
        "systemd-analyze verify was not silent for {} unit(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(verified > 0, "nothing was verified");
}

#[test]
fn front_matter_is_stripped() {
    let snap = "---\nsource: tests/snapshots.rs\ndescription: x\n---\n[Unit]\nA=---\n";
    assert_eq!(snapshot_contents(snap), Some("[Unit]\nA=---\n"));
    assert_eq!(
        setting("[X]\nTargetSystemd=252\n", "TargetSystemd"),
        Some("252")
    );
    assert_eq!(setting("[X]\nManager=user\n", "Manager"), Some("user"));
}
