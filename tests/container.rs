//! Container mode through the real `ociunit` binary: how `--runtime` picks the mode, what it
//! refuses, and how the lifecycle sees the derived runtime config. The runtimes themselves run
//! in the VM suite (`tests/vm/cases/container.sh`); here a stand-in `crun` that only answers
//! `--version` is enough, since compiling never starts the runtime.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory with a stand-in `crun` on `bin/` and a state directory.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let crun = bin.join("crun");
        std::fs::write(
            &crun,
            "#!/bin/sh\necho 'crun version 1.21'\necho 'commit: x'\n",
        )
        .unwrap();
        std::fs::set_permissions(&crun, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `ociunit ARGS` with only the scratch `bin/` on `PATH` (no runtime at all when `with_crun`
    /// is false), and the scratch state directory.
    fn ociunit(&self, with_crun: bool, args: &[&str]) -> Output {
        let path = if with_crun {
            self.path("bin")
        } else {
            self.path("empty")
        };
        let state = self.path("state");
        let state_dir = ["--state-dir", state.to_str().unwrap()];
        Command::new(env!("CARGO_BIN_EXE_ociunit"))
            .args(args)
            .args(if args[0] == "list" {
                &[][..]
            } else {
                &state_dir[..]
            })
            .env("PATH", path)
            .output()
            .expect("cannot run ociunit")
    }

    /// A copy of a corpus bundle whose root file system is `rootfs` (created with `files`).
    fn bundle(&self, from: &str, files: &[&str]) -> PathBuf {
        let dir = self.path("bundle");
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        let config = repo().join("tests/bundles").join(from).join("config.json");
        std::fs::copy(config, dir.join("config.json")).unwrap();
        for file in files {
            std::fs::write(dir.join("rootfs").join(file), "").unwrap();
        }
        dir
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn explain_mode(
    scratch: &Scratch,
    with_crun: bool,
    bundle: &Path,
    extra: &[&str],
) -> serde_json::Value {
    let mut args = vec!["explain", bundle.to_str().unwrap(), "--user", "--json"];
    args.extend(extra);
    let out = scratch.ociunit(with_crun, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["mode"].clone()
}

#[test]
fn auto_runs_a_bundle_with_a_root_file_system_as_a_container() {
    let scratch = Scratch::new();
    let bundle = scratch.bundle("container-crun", &["busybox"]);
    let mode = explain_mode(&scratch, true, &bundle, &[]);
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

    let mode = explain_mode(&scratch, true, &bundle, &["--runtime", "none"]);
    assert_eq!(mode["kind"], "host", "{mode}");
}

#[test]
fn auto_runs_a_bundle_without_a_root_file_system_on_the_host() {
    let scratch = Scratch::new();
    let empty = scratch.bundle("container-crun", &[]);
    let mode = explain_mode(&scratch, true, &empty, &[]);
    assert_eq!(mode["kind"], "host", "{mode}");
    assert!(mode["why"].as_str().unwrap().contains("is empty"), "{mode}");

    // A root of `/` is the host's own, as bundles written for host mode say.
    let host = scratch.path("host-root");
    std::fs::create_dir(&host).unwrap();
    let config = std::fs::read_to_string(empty.join("config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&config).unwrap();
    config["root"]["path"] = "/".into();
    std::fs::write(host.join("config.json"), config.to_string()).unwrap();
    let mode = explain_mode(&scratch, true, &host, &[]);
    assert_eq!(mode["kind"], "host", "{mode}");
    assert!(
        mode["why"].as_str().unwrap().contains("host's own /"),
        "{mode}"
    );

    // Forcing a container on an empty root is invalid input.
    let out = scratch.ociunit(
        true,
        &[
            "compile",
            empty.to_str().unwrap(),
            "--user",
            "--runtime",
            "crun",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is empty"), "{}", stderr(&out));
}

#[test]
fn without_a_runtime_the_error_names_the_fix() {
    let scratch = Scratch::new();
    let bundle = scratch.bundle("container-crun", &["busybox"]);
    let out = scratch.ociunit(false, &["compile", bundle.to_str().unwrap(), "--user"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("apt install crun") && err.contains("--runtime none"),
        "{err}"
    );
    assert!(!scratch.path("state").exists(), "nothing may be written");
}

#[test]
fn strict_refuses_what_ociunit_would_add() {
    // container-crun has no cgroup namespace (generated on a host without cgroup v2).
    let scratch = Scratch::new();
    let bundle = scratch.bundle("container-crun", &["busybox"]);
    let args = [
        "compile",
        bundle.to_str().unwrap(),
        "--user",
        "--launcher",
        LAUNCHER,
    ];
    let out = scratch.ociunit(true, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut strict = args.to_vec();
    strict.push("--strict");
    let out = scratch.ociunit(true, &strict);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("linux.namespaces: added: in the runtime's config: a cgroup namespace added"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rootless_container_needs_a_user_namespace() {
    let scratch = Scratch::new();
    // crun spec (rootful) has no user namespace: fine for --system, not for --user.
    let bundle = scratch.bundle("container-crun-root", &["busybox"]);
    let out = scratch.ociunit(
        true,
        &[
            "compile",
            bundle.to_str().unwrap(),
            "--user",
            "--launcher",
            LAUNCHER,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs a user namespace"),
        "{}",
        stderr(&out)
    );
    let out = scratch.ociunit(
        true,
        &[
            "compile",
            bundle.to_str().unwrap(),
            "--system",
            "--launcher",
            LAUNCHER,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `compile -o` writes the derived config first and records its hash; `diff` shows a change made
/// to it by hand, `list` calls it changed.
#[test]
fn the_lifecycle_sees_drift_of_the_derived_config() {
    let scratch = Scratch::new();
    let bundle = scratch.bundle("container-crun", &["busybox"]);
    let units = scratch.path("units");
    std::fs::create_dir(&units).unwrap();
    let unit = units.join("bundle.service");
    let target = [bundle.to_str().unwrap(), "--user", "--launcher", LAUNCHER];
    let mut compile = vec!["compile", "-o", unit.to_str().unwrap()];
    compile.extend(target);
    let out = scratch.ociunit(true, &compile);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let config = scratch.path("state/bundle/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        std::fs::read_to_string(&unit)
            .unwrap()
            .contains(&format!("RuntimeConfig={}", config.display()))
    );

    let mut diff = vec!["diff", "--unit-dir", units.to_str().unwrap()];
    diff.extend(target);
    let out = scratch.ociunit(true, &diff);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no difference yet: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    std::fs::write(&config, text.replace("\"cat\"", "\"rm\"")).unwrap();
    let out = scratch.ociunit(true, &diff);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        shown.contains("-      \"rm\",") && shown.contains("+      \"cat\","),
        "{shown}"
    );

    let out = scratch.ociunit(
        true,
        &[
            "list",
            "--user",
            "--unit-dir",
            units.to_str().unwrap(),
            "--json",
        ],
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed["units"][0]["runtime_config_state"], "changed",
        "{listed}"
    );
}
