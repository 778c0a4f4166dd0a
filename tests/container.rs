//! Container mode through the real `ociunit` binary: how `--runtime` picks the mode, what it
//! refuses, and how the lifecycle sees the derived runtime config. The runtimes themselves run
//! in the VM suite (`tests/vm/cases/container.sh`); here a stand-in `crun` that only answers
//! `--version` is enough, since compiling never starts the runtime.

use std::path::{Path, PathBuf};

use crate::test::{LAUNCHER, Test};

/// A scratch directory with the stand-in `crun` on `bin/`.
fn scratch() -> Test {
    Test::new().stand_in_crun()
}

/// `ociunit ARGS` with only the scratch `bin/` on `PATH` (no runtime at all when `with_crun`
/// is false), and the scratch state directory.
fn ociunit(test: &Test, with_crun: bool, args: &[&str]) -> Test {
    let path = if with_crun { "bin" } else { "empty" };
    let run = test.clone().env("PATH", test.path(path)).args(args);
    if args[0] == "list" {
        run
    } else {
        run.arg("--state-dir").arg(test.path("state"))
    }
}

/// A copy of a corpus bundle whose root file system is `rootfs` (created with `files`).
fn bundle(test: &Test, from: &str, files: &[&str]) -> PathBuf {
    let dir = test.copy_bundle(from, "bundle");
    std::fs::create_dir(dir.join("rootfs")).unwrap();
    for file in files {
        test.write(&format!("bundle/rootfs/{file}"), "");
    }
    dir
}

fn explain_mode(test: &Test, with_crun: bool, bundle: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["explain", bundle.to_str().unwrap(), "--user", "--json"];
    args.extend(extra);
    let json = ociunit(test, with_crun, &args).status(0).run().json();
    json["mode"].clone()
}

#[test]
fn auto_runs_a_bundle_with_a_root_file_system_as_a_container() {
    let test = scratch();
    let bundle = bundle(&test, "container-crun", &["busybox"]);
    let mode = explain_mode(&test, true, &bundle, &[]);
    assert_eq!(mode["kind"], "container", "{mode}");
    assert_eq!(mode["runtime"]["kind"], "crun");
    assert_eq!(mode["runtime"]["version"], "1.21", "asked crun --version");
    assert!(
        mode["why"]
            .as_str()
            .unwrap()
            .contains("non-empty directory"),
        "{mode}"
    );

    let mode = explain_mode(&test, true, &bundle, &["--runtime", "none"]);
    assert_eq!(mode["kind"], "host", "{mode}");
}

#[test]
fn auto_runs_a_bundle_without_a_root_file_system_on_the_host() {
    let test = scratch();
    let empty = bundle(&test, "container-crun", &[]);
    let mode = explain_mode(&test, true, &empty, &[]);
    assert_eq!(mode["kind"], "host", "{mode}");
    assert!(mode["why"].as_str().unwrap().contains("is empty"), "{mode}");

    // A root of `/` is the host's own, as bundles written for host mode say.
    let host = test.path("host-root");
    std::fs::create_dir(&host).unwrap();
    let config = std::fs::read_to_string(empty.join("config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&config).unwrap();
    config["root"]["path"] = "/".into();
    std::fs::write(host.join("config.json"), config.to_string()).unwrap();
    let mode = explain_mode(&test, true, &host, &[]);
    assert_eq!(mode["kind"], "host", "{mode}");
    assert!(
        mode["why"].as_str().unwrap().contains("host's own /"),
        "{mode}"
    );

    // Forcing a container on an empty root is invalid input.
    let empty = empty.to_str().unwrap();
    ociunit(
        &test,
        true,
        &["compile", empty, "--user", "--runtime", "crun"],
    )
    .status(2)
    .stderr_contains("is empty")
    .run();
}

#[test]
fn without_a_runtime_the_error_names_the_fix() {
    let test = scratch();
    let bundle = bundle(&test, "container-crun", &["busybox"]);
    ociunit(
        &test,
        false,
        &["compile", bundle.to_str().unwrap(), "--user"],
    )
    .status(2)
    .stderr_contains("apt install crun")
    .stderr_contains("--runtime none")
    .run();
    assert!(!test.path("state").exists(), "nothing may be written");
}

#[test]
fn strict_refuses_what_ociunit_would_add() {
    // container-crun has no cgroup namespace (generated on a host without cgroup v2).
    let test = scratch();
    let bundle = bundle(&test, "container-crun", &["busybox"]);
    let args = [
        "compile",
        bundle.to_str().unwrap(),
        "--user",
        "--launcher",
        LAUNCHER,
    ];
    ociunit(&test, true, &args).status(0).run();
    ociunit(&test, true, &[&args[..], &["--strict"]].concat())
        .status(2)
        .stderr_contains(
            "linux.namespaces: added: in the runtime's config: a cgroup namespace added",
        )
        .run();
}

#[test]
fn a_rootless_container_needs_a_user_namespace() {
    let test = scratch();
    // crun spec (rootful) has no user namespace: fine for --system, not for --user.
    let bundle = bundle(&test, "container-crun-root", &["busybox"]);
    let compile = |manager: &str| {
        let bundle = bundle.to_str().unwrap();
        ociunit(
            &test,
            true,
            &["compile", bundle, manager, "--launcher", LAUNCHER],
        )
    };
    compile("--user")
        .status(2)
        .stderr_contains("needs a user namespace")
        .run();
    compile("--system").status(0).run();
}

/// `compile -o` writes the derived config first and records its hash; `diff` shows a change made
/// to it by hand, `list` calls it changed.
#[test]
fn the_lifecycle_sees_drift_of_the_derived_config() {
    let test = scratch();
    let bundle = bundle(&test, "container-crun", &["busybox"]);
    let units = test.path("units");
    std::fs::create_dir(&units).unwrap();
    let unit = units.join("bundle.service");
    let target = [bundle.to_str().unwrap(), "--user", "--launcher", LAUNCHER];
    let mut compile = vec!["compile", "-o", unit.to_str().unwrap()];
    compile.extend(target);
    ociunit(&test, true, &compile).status(0).run();
    let config = test.path("state/bundle/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        std::fs::read_to_string(&unit)
            .unwrap()
            .contains(&format!("RuntimeConfig={}", config.display()))
    );

    let mut diff = vec!["diff", "--unit-dir", units.to_str().unwrap()];
    diff.extend(target);
    // No difference yet.
    ociunit(&test, true, &diff).status(0).run();

    std::fs::write(&config, text.replace("\"cat\"", "\"rm\"")).unwrap();
    ociunit(&test, true, &diff)
        .status(1)
        .stdout_contains("-      \"rm\",")
        .stdout_contains("+      \"cat\",")
        .run();

    let units = units.to_str().unwrap();
    let listed = ociunit(
        &test,
        true,
        &["list", "--user", "--unit-dir", units, "--json"],
    )
    .run()
    .json();
    assert_eq!(
        listed["units"][0]["runtime_config_state"], "changed",
        "{listed}"
    );
}
