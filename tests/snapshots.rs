//! Snapshot tests of the real `ociunit` binary over the bundle corpus in `tests/bundles/`.
//!
//! Every case in [`CASES`] runs `ociunit compile`, `ociunit explain --json` and
//! `ociunit run --service --dry-run` on one bundle for one target and snapshots the output as
//! `snapshots/unit@CASE.snap`, `snapshots/explain@CASE.snap` and `snapshots/dbus@CASE.snap`: the
//! same plan as a unit file and as the D-Bus properties of a transient unit, side by side. Each case names its launcher path, its manager and its systemd
//! version explicitly, so the snapshots do not depend on the host that runs the tests. Two things
//! are normalised, both because they depend on where the repository is cloned:
//!
//! * the repository root, which both outputs contain (the bundle's absolute path): `[REPO]`;
//! * the unit's `UnitSha256=`, a hash of the unit text, which contains that path:
//!   `[UNIT-SHA256]`. The test checks the real hash (`unit_file::inspect`) before replacing it.
//!
//! Review a change with `cargo insta review` (or `INSTA_UPDATE=always cargo test --test
//! integration snapshots::` and `git diff snapshots/`): every changed line is a change in what
//! ociunit emits.
//! `tests/vm/` starts the `unit@*.snap` units in a systemd 257 guest and `tests/verify.rs` runs
//! `systemd-analyze verify` on them.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::test::{LAUNCHER, Output, Test, repo};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Manager {
    System,
    User,
}

impl Manager {
    fn flag(self) -> &'static str {
        match self {
            Manager::System => "--system",
            Manager::User => "--user",
        }
    }
}

/// What the bundle is expected to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// `compile` succeeds (exit 0): snapshot the unit and the explain JSON.
    Compiles,
    /// The bundle loads but does not compile (e.g. it has no `process`, so no command for a
    /// unit): `compile` exits 2 naming `path` in a message that contains `message`; snapshot only
    /// the explain JSON (which also exits 2).
    Refused {
        path: &'static str,
        message: &'static str,
    },
}

#[derive(Clone, Copy, Debug)]
struct Case {
    /// The snapshot suffix: `unit@NAME`, `explain@NAME`.
    name: &'static str,
    /// The directory below `tests/bundles/`.
    bundle: &'static str,
    manager: Manager,
    /// `--systemd-version`.
    systemd: u32,
    /// `--launcher` (compile only).
    launcher: &'static str,
    /// Extra arguments for both `compile` and `explain` (e.g. `--name`).
    args: &'static [&'static str],
    /// Extra arguments for `compile` only (e.g. `--best-effort`).
    compile_args: &'static [&'static str],
    expect: Expect,
}

const fn system(name: &'static str, bundle: &'static str, systemd: u32) -> Case {
    Case {
        name,
        bundle,
        manager: Manager::System,
        systemd,
        launcher: LAUNCHER,
        args: &[],
        compile_args: &[],
        expect: Expect::Compiles,
    }
}

/// A case whose explain JSON cannot be snapshotted yet.
const fn user(name: &'static str, bundle: &'static str, systemd: u32) -> Case {
    Case {
        manager: Manager::User,
        ..system(name, bundle, systemd)
    }
}

/// A bundle without `process`: compile must fail, explain is snapshotted.
const fn no_process(name: &'static str, bundle: &'static str) -> Case {
    Case {
        expect: Expect::Refused {
            path: "process",
            message: "a unit needs a command",
        },
        ..system(name, bundle, 252)
    }
}

/// The corpus. Bundles compiled as root configs use `--system`, rootless ones `--user`.
const CASES: &[Case] = &[
    // What the runtimes generate (tests/bundles/README.md says which versions).
    system("crun-spec", "crun-spec", 252),
    user("crun-spec-rootless", "crun-spec-rootless", 252),
    system("runc-spec", "runc-spec", 252),
    user("runc-spec-rootless", "runc-spec-rootless", 252),
    // Without process.user: 0:0, as runc and crun run it.
    system("runc-spec-no-user", "runc-spec-no-user", 252),
    user("runc-spec-no-user-user", "runc-spec-no-user", 257),
    // The runtime-spec's own good configs (schema/test/config/good).
    system("spec-example", "spec-example", 252),
    system("spec-example-257", "spec-example", 257),
    // uid 1 cannot be switched to by a user manager (unless the tests run as uid 1).
    user("spec-example-user", "spec-example", 252),
    system("rs-minimal-for-start", "rs-minimal-for-start", 252),
    // A FreeBSD config without process.user, which runs as 0:0 as in runc and crun.
    system("rs-freebsd-example", "rs-freebsd-example", 252),
    system("rs-zos-example", "rs-zos-example", 252),
    no_process("rs-minimal", "rs-minimal"),
    no_process("rs-freebsd-minimal", "rs-freebsd-minimal"),
    no_process("rs-zos-minimal", "rs-zos-minimal"),
    no_process("rs-linux-netdevice", "rs-linux-netdevice"),
    no_process("rs-linux-rdma", "rs-linux-rdma"),
    // The smallest useful bundle, and unit names that need escaping.
    system("minimal", "minimal", 252),
    user("minimal-user", "minimal", 252),
    Case {
        args: &["--name", "web app@2/ä"],
        ..system("name-escaped", "minimal", 252)
    },
    // Each resource block alone.
    system("res-memory", "res-memory", 252),
    system("res-cpu", "res-cpu", 252),
    system("res-pids", "res-pids", 252),
    system("res-blockio", "res-blockio", 252),
    system("res-hugepages", "res-hugepages", 252),
    system("res-rdma", "res-rdma", 252),
    system("res-network", "res-network", 252),
    system("res-devices", "res-devices", 252),
    system("res-unified", "res-unified", 252),
    // The zeros generators, containerd and the kubelet write for "unset", read as runc does;
    // none of them asks for anything, so --strict has nothing to fail on.
    Case {
        compile_args: &["--strict"],
        ..system("zeros", "zeros", 252)
    },
    system("memory-limit-0", "memory-limit-0", 252),
    system("pids-limit-0", "pids-limit-0", 252),
    system("quota-period-0", "quota-period-0", 252),
    // OCI swap is memory+swap.
    system("swap-above-limit", "swap-above-limit", 252),
    system("swap-equal-limit", "swap-equal-limit", 252),
    system("swap-unlimited", "swap-unlimited", 252),
    system("swap-zero", "swap-zero", 252),
    // cpu.shares → CPUWeight test vectors.
    system("shares-0", "shares-0", 252),
    system("shares-2", "shares-2", 252),
    system("shares-3", "shares-3", 252),
    system("shares-10", "shares-10", 252),
    system("shares-100", "shares-100", 252),
    system("shares-512", "shares-512", 252),
    system("shares-1024", "shares-1024", 252),
    system("shares-4096", "shares-4096", 252),
    system("shares-22000", "shares-22000", 252),
    system("shares-100000", "shares-100000", 252),
    system("shares-262144", "shares-262144", 252),
    system("shares-300000", "shares-300000", 252),
    // CPUQuota= rounding: whole percents before 257, two decimals from 257.
    system("quota-12345-252", "quota-12345", 252),
    system("quota-12345-257", "quota-12345", 257),
    system("quota-tiny-252", "quota-tiny", 252),
    system("quota-tiny-257", "quota-tiny", 257),
    system("quota-no-period", "quota-no-period", 252),
    system("quota-period-only", "quota-period-only", 252),
    system("quota-period-only-239", "quota-period-only", 239),
    system("quota-unlimited", "quota-unlimited", 252),
    // cpu.idle → CPUWeight=idle (252), else the launcher writes cpu.idle.
    system("cpu-idle-239", "cpu-idle", 239),
    system("cpu-idle-252", "cpu-idle", 252),
    // unified: keys systemd has a property for, and keys only the launcher writes.
    system("unified-mapped-252", "unified-mapped", 252),
    system("unified-mapped-257", "unified-mapped", 257),
    system("unified-mapped-239", "unified-mapped", 239),
    system("unified-unmapped", "unified-unmapped", 252),
    system("unified-idle-239", "unified-idle", 239),
    system("unified-idle-252", "unified-idle", 252),
    system("unified-override", "unified-override", 252),
    // Device rules.
    system("devices-deny-all-allows", "devices-deny-all-allows", 252),
    system("devices-allow-all", "devices-allow-all", 252),
    system("devices-deny-list", "devices-deny-list", 252),
    system("devices-deny-after-allow", "devices-deny-after-allow", 252),
    system("devices-allow-only", "devices-allow-only", 252),
    system("devices-whole-major", "devices-whole-major", 252),
    user("devices-user", "devices-deny-all-allows", 252),
    // Huge pages; runc's own tests spell the keys `pagesize` (Go matches keys without case).
    system("hugepages", "hugepages", 252),
    system("hugepages-pagesize", "hugepages-pagesize", 252),
    // One rich bundle for every target: what each version lacks goes to the launcher.
    system("rich-239", "rich", 239),
    system("rich-244", "rich", 244),
    system("rich-252", "rich", 252),
    system("rich-254", "rich", 254),
    system("rich-257", "rich", 257),
    Case {
        compile_args: &["--best-effort"],
        ..system("rich-252-best-effort", "rich", 252)
    },
    // The same limits for the user manager (the bundle runs as uid 0, the manager's own user).
    user("rich-user-252", "rich-user", 252),
    user("rich-user-257", "rich-user", 257),
    // process → exec settings, for both managers.
    system("process-user-system", "process-user", 252),
    system("process-user-system-239", "process-user", 239),
    user("process-user-user", "process-user-rootless", 252),
    // Strings that must reach the payload unchanged.
    system("escaping", "escaping", 252),
    user("escaping-user", "escaping", 257),
    // org.systemd.property.* annotations in systemd syntax and GVariant forms, one shadowed by
    // memory.limit; before 244/252/253 the launcher writes what systemd cannot set.
    system("annotations-239", "annotations", 239),
    system("annotations-252", "annotations", 252),
    system("annotations-257", "annotations", 257),
    user("annotations-user", "annotations", 252),
    // Working directories WorkingDirectory= would change: the launcher changes to them.
    system("cwd-trailing-space", "cwd-trailing-space", 252),
    system("cwd-newline", "cwd-newline", 252),
    system("cwd-not-normalized", "cwd-not-normalized", 252),
    user("cwd-backslash", "cwd-backslash", 257),
    // Fields that are not in runtime-spec 1.x.
    system("unknown-fields", "unknown-fields", 252),
    // Identity through user namespaces: a rootless bundle's 0 → 1000 as a system unit is
    // User=1000, never root; a namespace without mappings has no host identity as a system unit.
    system("runc-spec-rootless-system", "runc-spec-rootless", 252),
    Case {
        expect: Expect::Refused {
            path: "process.user.uid",
            message: "which for a system unit is root",
        },
        ..system("crun-spec-rootless-system", "crun-spec-rootless", 252)
    },
    system("userns-1001", "userns-1001", 252),
    // Capabilities, labels and seccomp, for both managers.
    system("capabilities-ambient", "capabilities-ambient", 252),
    user("capabilities-ambient-user", "capabilities-ambient", 252),
    system("labels", "labels", 252),
    user("labels-user", "labels", 252),
    system("seccomp-allow", "seccomp-allow", 252),
    system("seccomp-deny", "seccomp-deny", 252),
    user("seccomp-deny-user", "seccomp-deny", 257),
    system("seccomp-args", "seccomp-args", 252),
    // Container mode: the bundle runs through crun or runc; runtime@NAME is the derived config.
    Case {
        args: &["--runtime", "crun", "--runtime-version", "1.21"],
        ..user("container-crun-257", "container-crun", 257)
    },
    Case {
        args: &["--runtime", "crun", "--runtime-version", "1.8.1"],
        ..user("container-crun-252", "container-crun", 252)
    },
    Case {
        args: &["--runtime", "runc", "--runtime-version", "1.1.15+ds1"],
        ..user("container-runc-257", "container-runc", 257)
    },
    Case {
        args: &["--runtime", "runc", "--runtime-version", "1.1.5+ds1"],
        ..user("container-runc-252", "container-runc", 252)
    },
    Case {
        args: &["--runtime", "crun", "--runtime-version", "1.21"],
        ..system("container-crun-root-257", "container-crun-root", 257)
    },
];

fn bundle_dir(case: &Case) -> PathBuf {
    crate::test::bundle(case.bundle)
}

/// Where container mode writes the derived runtime config during the tests; `[STATE]` in the
/// snapshots.
fn state_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
        .path()
}

/// The target arguments both subcommands take.
fn target_args(case: &Case) -> Vec<String> {
    let mut args = vec![
        bundle_dir(case).to_string_lossy().into_owned(),
        case.manager.flag().to_owned(),
        "--systemd-version".to_owned(),
        case.systemd.to_string(),
    ];
    args.extend(case.args.iter().map(|a| (*a).to_owned()));
    if case.args.contains(&"--runtime") {
        args.extend([
            "--state-dir".to_owned(),
            state_dir().to_string_lossy().into_owned(),
        ]);
    }
    args
}

fn compile_args(case: &Case) -> Vec<String> {
    let mut args = vec!["compile".to_owned()];
    args.extend(target_args(case));
    args.extend(["--launcher".to_owned(), case.launcher.to_owned()]);
    args.extend(case.compile_args.iter().map(|a| (*a).to_owned()));
    args
}

fn dbus_args(case: &Case) -> Vec<String> {
    let mut args = vec![
        "run".to_owned(),
        "--service".to_owned(),
        "--dry-run".to_owned(),
    ];
    args.extend(["--unit".to_owned(), format!("{}.service", case.name)]);
    args.extend(target_args(case));
    args.extend(["--launcher".to_owned(), case.launcher.to_owned()]);
    args.extend(case.compile_args.iter().map(|a| (*a).to_owned()));
    args
}

fn explain_args(case: &Case) -> Vec<String> {
    let mut args = vec!["explain".to_owned()];
    args.extend(target_args(case));
    args.push("--json".to_owned());
    args
}

fn ociunit(args: &[String]) -> Output {
    Test::new().args(args).current_dir(repo()).run()
}

/// The command line as a reader would type it in the repository, for the snapshot header.
fn shown(args: &[String]) -> String {
    let root = format!("{}/", repo().display());
    let words: Vec<String> = args
        .iter()
        .map(|a| {
            let a = a.replace(&root, "");
            let a = a.replace(&*state_dir().to_string_lossy(), "[STATE]");
            let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@".contains(c);
            if !a.is_empty() && a.chars().all(plain) {
                a
            } else {
                format!("{a:?}")
            }
        })
        .collect();
    format!("ociunit {}", words.join(" "))
}

fn snapshot(name: &str, description: String, contents: &str) {
    // A user manager's runtime directory has the uid the tests run as.
    let uid = rustix::process::getuid().as_raw();
    let run_dir = format!("/run/user/{uid}/");
    let gid = rustix::process::getgid().as_raw();
    let contents = contents
        .replace(&run_dir, "/run/user/[UID]/")
        .replace(&format!("\"hostID\": {uid},"), "\"hostID\": \"[UID]\",")
        .replace(&format!("\"hostID\": {gid},"), "\"hostID\": \"[GID]\",")
        .replace(&*state_dir().to_string_lossy(), "[STATE]");
    crate::test::snapshot(name, Some(description), &contents);
}

/// The derived config a container-mode unit names, checked against the hash it records.
fn runtime_config(unit: &str) -> Option<PathBuf> {
    let record = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::to_owned)
    };
    let path = PathBuf::from(record("RuntimeConfig=")?);
    let bytes = std::fs::read(&path).ok()?;
    let sha256 = sha2::Sha256::digest(&bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
    assert_eq!(
        record("RuntimeConfigSha256="),
        Some(sha256),
        "{}",
        path.display()
    );
    Some(path)
}

fn run_case(case: &Case) {
    let args = compile_args(case);
    let out = ociunit(&args);
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    let config = bundle_dir(case).join("config.json");
    let expect_failure = |path: &str, message: &str| {
        assert_eq!(
            out.status,
            Some(2),
            "{}: {} must fail with exit 2:\n{stderr}",
            case.name,
            shown(&args)
        );
        assert_eq!(stdout, "", "{}: no unit may be printed", case.name);
        let expected = format!("ociunit: {}: {path}: ", config.display());
        assert!(
            stderr.contains(&expected) && stderr.contains(message),
            "{}: stderr does not name {path} ({expected:?}, {message:?}):\n{stderr}",
            case.name
        );
    };
    match case.expect {
        Expect::Compiles => {
            assert_eq!(
                out.status,
                Some(0),
                "{}: {} failed:\n{stderr}",
                case.name,
                shown(&args)
            );
            for line in stderr.lines() {
                assert!(
                    line.starts_with("ociunit: warning: "),
                    "{}: unexpected stderr line {line:?}",
                    case.name
                );
            }
            assert!(stdout.contains("\n[Service]\n"), "{}: no unit", case.name);
            assert!(
                matches!(
                    ociunit::unit_file::inspect(stdout),
                    ociunit::unit_file::Ownership::Generated(_)
                ),
                "{}: the unit's UnitSha256= does not match its content",
                case.name
            );
            snapshot(&format!("unit@{}", case.name), shown(&args), stdout);
            if let Some(config) = runtime_config(stdout) {
                let derived = std::fs::read_to_string(&config)
                    .unwrap_or_else(|err| panic!("{}: {}: {err}", case.name, config.display()));
                snapshot(&format!("runtime@{}", case.name), shown(&args), &derived);
            }
            let dbus = dbus_args(case);
            let out = ociunit(&dbus);
            assert_eq!(
                out.status,
                Some(0),
                "{}: {} failed",
                case.name,
                shown(&dbus)
            );
            snapshot(&format!("dbus@{}", case.name), shown(&dbus), &out.stdout);
        }
        Expect::Refused { path, message } => expect_failure(path, message),
    }

    let args = explain_args(case);
    let out = ociunit(&args);
    let expected_code = match case.expect {
        Expect::Compiles => 0,
        Expect::Refused { .. } => 2,
    };
    assert_eq!(
        out.status,
        Some(expected_code),
        "{}: {}:\n{}",
        case.name,
        shown(&args),
        out.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("{}: explain --json is not JSON: {err}", case.name));
    assert_eq!(json["format"], "ociunit-explain/2");
    assert_eq!(json["config"], config.to_string_lossy().as_ref());
    assert_eq!(json["target"]["systemd"], case.systemd);
    snapshot(&format!("explain@{}", case.name), shown(&args), &out.stdout);
}

/// Runs every case, then fails listing all the cases that failed (like `insta::glob!`), so one
/// review shows every changed snapshot.
#[test]
fn corpus() {
    let failed: Vec<&str> = CASES
        .iter()
        .filter(|case| std::panic::catch_unwind(|| run_case(case)).is_err())
        .map(|case| case.name)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases failed: {}",
        failed.len(),
        CASES.len(),
        failed.join(", ")
    );
}

#[test]
fn case_table_is_consistent() {
    let mut names = BTreeSet::new();
    for case in CASES {
        assert!(names.insert(case.name), "case {} twice", case.name);
        assert!(
            case.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "case name {:?}: letters, digits and '-' only (it names files)",
            case.name
        );
        assert!(
            bundle_dir(case).join("config.json").is_file(),
            "{}: no tests/bundles/{}/config.json",
            case.name,
            case.bundle
        );
        assert!(Path::new(case.launcher).is_absolute());
    }
    // Every bundle in the corpus is compiled by some case.
    let used: BTreeSet<&str> = CASES.iter().map(|c| c.bundle).collect();
    for entry in std::fs::read_dir(repo().join("tests/bundles")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                used.contains(name.as_str()),
                "tests/bundles/{name} is in no case"
            );
        }
    }
}

/// Every file in `snapshots/` belongs to a case: no stale snapshots of removed cases, and no
/// pending `.snap.new` files.
#[test]
fn no_stray_snapshots() {
    let mut expected = BTreeSet::new();
    for case in CASES {
        if case.expect == Expect::Compiles {
            expected.insert(format!("unit@{}.snap", case.name));
            expected.insert(format!("dbus@{}.snap", case.name));
            if case.args.contains(&"--runtime") {
                expected.insert(format!("runtime@{}.snap", case.name));
            }
        }
        expected.insert(format!("explain@{}.snap", case.name));
    }
    let dir = repo().join("snapshots");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut stray = Vec::new();
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let pending = name.ends_with(".snap.new") || name.ends_with(".pending-snap");
        // tests/generator.rs and tests/json.rs check their own.
        let own = (name.starts_with("generator@") || name.starts_with("json@")) && !pending;
        if !name.starts_with('.') && !own && (pending || !expected.contains(&name)) {
            stray.push(name);
        }
    }
    assert!(
        stray.is_empty(),
        "files in snapshots/ that no case produces (remove them, or run `cargo insta review`): {}",
        stray.join(", ")
    );
}

/// `explain --json` is documented as a stable interface, so the same bundle must give the same
/// bytes every time, including the capability sets oci-spec keeps in hash sets.
#[test]
fn explain_json_is_deterministic() {
    let case = CASES.iter().find(|c| c.name == "runc-spec").unwrap();
    let first = ociunit(&explain_args(case)).stdout;
    for _ in 0..10 {
        assert!(
            ociunit(&explain_args(case)).stdout == first,
            "two runs of `{}` printed different JSON",
            shown(&explain_args(case))
        );
    }
}

/// `run --scope` runs the payload in this process: the launcher drops the bounding set itself,
/// and a bundle asking for what it cannot apply (here `User=1001`) is refused before any unit
/// is started, rather than run with more privilege.
#[test]
fn scopes_refuse_what_the_launcher_cannot_apply() {
    let run = |bundle: &str| {
        let args: Vec<String> = [
            "run",
            "--scope",
            "--dry-run",
            "--system",
            "--systemd-version",
            "252",
            bundle,
        ]
        .map(str::to_owned)
        .to_vec();
        ociunit(&args)
    };
    let applied = run("tests/bundles/runc-spec");
    assert_eq!(applied.status, Some(0), "{}", applied.stderr);
    let refused = run("tests/bundles/userns-1001");
    let err = &refused.stderr;
    assert_eq!(refused.status, Some(2), "{err}");
    assert!(
        err.contains("process.user.uid: User=1001 cannot apply to a scope")
            && err.contains("use --service"),
        "{err}"
    );
    assert!(refused.stdout.is_empty());
}
