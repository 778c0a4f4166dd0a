//! Bad bundles: `ociunit compile` exits 2 and names the file and the place in it (the JSON path,
//! or line and column for text that is not JSON), and writes nothing.
//!
//! The corpus is `tests/bad/NAME.json` (`rs-*` are opencontainers/runtime-spec's
//! `schema/test/config/bad` fixtures at commit 6999a89, renamed); [`BAD`] says where each one is
//! wrong. Every file must be in the table and every entry must have a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

/// Where the error must point.
#[derive(Clone, Copy, Debug)]
enum At {
    /// `FILE: PATH: message`
    Path(&'static str),
    /// `FILE:LINE:COLUMN: message` (JSON that does not parse)
    Line(usize, usize),
    /// `FILE: message` (the document as a whole)
    File,
}

use At::{File, Line, Path as P};

/// Each bad config, where its error is, and a word the message must contain.
const BAD: &[(&str, At, &str)] = &[
    // Not JSON, or not a config at all.
    ("malformed-trailing-comma", Line(5, 5), "trailing comma"),
    ("malformed-truncated", Line(5, 0), "EOF while parsing"),
    ("rs-invalid-json", Line(1, 2), "not valid JSON"),
    ("not-an-object", File, "must be a JSON object"),
    ("not-utf8", File, "not UTF-8"),
    // ociVersion.
    ("ociversion-missing", P("ociVersion"), "missing"),
    ("ociversion-2", P("ociVersion"), "2.0.0 is not supported"),
    (
        "ociversion-number",
        P("ociVersion"),
        "expected a version string",
    ),
    ("ociversion-garbage", P("ociVersion"), "not a version"),
    // Wrong JSON types (serde, with the path).
    (
        "shares-string",
        P("linux.resources.cpu.shares"),
        "invalid type",
    ),
    ("shares-negative", P("linux.resources.cpu.shares"), "-1"),
    ("args-string", P("process.args"), "invalid type"),
    ("uid-string", P("process.user.uid"), "invalid type"),
    (
        "rlimit-unknown-type",
        P("process.rlimits[0].type"),
        "RLIMIT_FOO",
    ),
    (
        "rdma-string-handles",
        P("linux.resources.rdma.mlx5_1.hcaHandles"),
        "invalid type",
    ),
    (
        "rs-linux-rdma",
        P("linux.resources.rdma.mlx5_1.hcaHandles"),
        "invalid type",
    ),
    (
        "rs-linux-netdevice",
        P("linux.netDevices.eth0.name"),
        "invalid type",
    ),
    // process.
    ("process-missing", P("process"), "a unit needs a command"),
    ("args-empty", P("process.args"), "empty"),
    (
        "args-nul",
        P("process.args"),
        "process.args[2] contains a NUL byte",
    ),
    (
        "env-without-equals",
        P("process.env"),
        "process.env[1] \"JUSTANAME\"",
    ),
    ("env-empty-name", P("process.env"), "process.env[0]"),
    ("cwd-relative", P("process.cwd"), "absolute"),
    ("cwd-newline", P("process.cwd"), "control character"),
    ("oom-score-adj-5000", P("process.oomScoreAdj"), "5000"),
    ("umask-01000", P("process.user.umask"), "512"),
    (
        "rlimit-soft-above-hard",
        P("process.rlimits[0]"),
        "soft limit is above",
    ),
    // Out-of-range resources.
    ("shares-300000", P("linux.resources.cpu.shares"), "300000"),
    (
        "blkio-weight-5",
        P("linux.resources.blockIO.weight"),
        "10..1000",
    ),
    (
        "blkio-weight-2000",
        P("linux.resources.blockIO.weight"),
        "10..1000",
    ),
    (
        "blkio-weight-device-5",
        P("linux.resources.blockIO.weightDevice[0].weight"),
        "10..1000",
    ),
    (
        "blkio-throttle-rate-0",
        P("linux.resources.blockIO.throttleReadBpsDevice[0]"),
        "rate of 0",
    ),
    (
        "memory-limit-negative",
        P("linux.resources.memory.limit"),
        "-5",
    ),
    (
        "memory-limit-0",
        P("linux.resources.memory.limit"),
        "0 is rejected",
    ),
    (
        "memory-reservation-negative",
        P("linux.resources.memory.reservation"),
        "-5",
    ),
    (
        "memory-swap-negative",
        P("linux.resources.memory.swap"),
        "-5",
    ),
    (
        "swap-below-limit",
        P("linux.resources.memory.swap"),
        "below memory.limit",
    ),
    (
        "swap-without-limit",
        P("linux.resources.memory.swap"),
        "needs a positive memory.limit",
    ),
    (
        "swap-with-unlimited-limit",
        P("linux.resources.memory.swap"),
        "needs a positive memory.limit",
    ),
    (
        "pids-limit-0",
        P("linux.resources.pids.limit"),
        "0 is rejected",
    ),
    ("pids-limit-negative", P("linux.resources.pids.limit"), "-5"),
    (
        "period-10",
        P("linux.resources.cpu.period"),
        "1000..1000000",
    ),
    (
        "period-2000000",
        P("linux.resources.cpu.period"),
        "1000..1000000",
    ),
    (
        "cpus-reversed-range",
        P("linux.resources.cpu.cpus"),
        "\"3-1\"",
    ),
    ("cpus-not-a-number", P("linux.resources.cpu.cpus"), "\"a\""),
    ("mems-too-large", P("linux.resources.cpu.mems"), "99999"),
    ("idle-2", P("linux.resources.cpu.idle"), "not 0 or 1"),
    (
        "hugepage-64kB",
        P("linux.resources.hugepageLimits[0]"),
        "\"64kB\"",
    ),
    (
        "hugepage-3MB",
        P("linux.resources.hugepageLimits[0]"),
        "\"3MB\"",
    ),
    (
        "rs-linux-hugepage",
        P("linux.resources.hugepageLimits[0]"),
        "\"64kB\"",
    ),
    (
        "rdma-device-space",
        P("linux.resources.rdma[\"mlx5 1\"]"),
        "not an RDMA device name",
    ),
    (
        "devices-access-rwx",
        P("linux.resources.devices[1]"),
        "\"rwx\"",
    ),
    // Device rules are checked whatever the target and wherever they stand (see
    // device_rules_are_invalid_for_user_units_too).
    (
        "devices-major-minus-2",
        P("linux.resources.devices[1]"),
        "-2 is not a device number",
    ),
    (
        "devices-minor-minus-2",
        P("linux.resources.devices[1]"),
        "-2 is not a device number",
    ),
    (
        "devices-major-above-u32",
        P("linux.resources.devices[1]"),
        "4294967296 is not a device number",
    ),
    (
        "devices-deny-major-minus-2",
        P("linux.resources.devices[1]"),
        "-2 is not a device number",
    ),
    (
        "devices-type-fifo",
        P("linux.resources.devices[1]"),
        "a FIFO is not a device",
    ),
    (
        "devices-access-empty",
        P("linux.resources.devices[1]"),
        "access \"\" is not a combination",
    ),
    (
        "devices-bad-before-deny-all",
        P("linux.resources.devices[0]"),
        "-5 is not a device number",
    ),
    (
        "devices-bad-after-allow-all",
        P("linux.resources.devices[1]"),
        "-7 is not a device number",
    ),
    (
        "devices-wildcard-access-rwmx",
        P("linux.resources.devices[0]"),
        "\"rwmx\"",
    ),
    (
        "devices-deny-after-allow-all-bad",
        P("linux.resources.devices[1]"),
        "\"q\"",
    ),
    // unified keys and values.
    (
        "unified-cgroup-procs",
        P("linux.resources.unified[\"cgroup.procs\"]"),
        "core files",
    ),
    (
        "unified-parent-dir",
        P("linux.resources.unified[\"../memory.max\"]"),
        "leave the cgroup",
    ),
    (
        "unified-dotdot-inside",
        P("linux.resources.unified[\"memory/../x\"]"),
        "leave the cgroup",
    ),
    (
        "unified-no-controller",
        P("linux.resources.unified.memory"),
        "CONTROLLER.FILE",
    ),
    (
        "unified-memory-max-text",
        P("linux.resources.unified[\"memory.max\"]"),
        "\"lots\"",
    ),
    (
        "unified-pids-max-0",
        P("linux.resources.unified[\"pids.max\"]"),
        "TasksMax=0",
    ),
    (
        "unified-cpu-max-0",
        P("linux.resources.unified[\"cpu.max\"]"),
        "\"0 100000\"",
    ),
    (
        "unified-value-nul",
        P("linux.resources.unified[\"io.latency\"]"),
        "NUL",
    ),
    // Values systemd refuses in a unit file, so the unit would never start.
    ("cwd-not-normalized", P("process.cwd"), "normalized"),
    ("uid-65535", P("process.user.uid"), "not valid IDs"),
    ("uid-4294967295", P("process.user.uid"), "not valid IDs"),
    ("gid-65535", P("process.user.gid"), "not valid IDs"),
    (
        "additional-gid-65535",
        P("process.user.additionalGids"),
        "not valid IDs",
    ),
    ("quota-too-large", P("linux.resources.cpu.quota"), "214748%"),
];

/// `rs-freebsd-vnet-disable.json` is bad only in its `freebsd` section, which ociunit does not
/// read (it drops non-Linux sections with a reason). It still fails, but because it has no
/// `process`; see [`freebsd_section_is_dropped_not_checked`].
const FREEBSD_ONLY: &str = "rs-freebsd-vnet-disable";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bad(name: &str) -> PathBuf {
    repo().join("tests/bad").join(format!("{name}.json"))
}

fn ociunit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ociunit"))
        .args(args)
        .output()
        .expect("cannot run ociunit")
}

fn compile(bundle: &Path, extra: &[&str]) -> Output {
    compile_for("--system", bundle, extra)
}

/// `compile` for `--system` or `--user`.
fn compile_for(manager: &str, bundle: &Path, extra: &[&str]) -> Output {
    let bundle = bundle.to_str().unwrap();
    let mut args = vec![
        "compile",
        bundle,
        manager,
        "--systemd-version",
        "252",
        "--launcher",
        LAUNCHER,
    ];
    args.extend(extra);
    ociunit(&args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The prefix the error line must start with (after `ociunit: `).
fn expected(file: &Path, at: At) -> String {
    let file = file.display();
    match at {
        At::Path(path) => format!("ociunit: {file}: {path}: "),
        At::Line(line, column) => format!("ociunit: {file}:{line}:{column}: "),
        At::File => format!("ociunit: {file}: "),
    }
}

/// Checks one bad config: exit 2, the error line, nothing on stdout, nothing written with `-o`.
fn check(name: &str, at: At, word: &str) -> Result<(), String> {
    let file = bad(name);
    let out_dir = tempfile::tempdir().unwrap();
    let unit = out_dir.path().join("bad.service");
    let out = compile(&file, &["-o", unit.to_str().unwrap()]);
    let err = stderr(&out);
    let prefix = expected(&file, at);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit status {:?}, not 2", out.status.code()));
    }
    match err.lines().find(|line| line.starts_with(&prefix)) {
        None => problems.push(format!("no line starts with {prefix:?}")),
        Some(line) if !line.contains(word) => {
            problems.push(format!("{line:?} does not contain {word:?}"));
        }
        Some(_) => {}
    }
    if !out.stdout.is_empty() {
        problems.push("something was printed on stdout".to_owned());
    }
    if unit.exists() {
        problems.push(format!("-o {} was written", unit.display()));
    }
    let left: Vec<_> = std::fs::read_dir(out_dir.path()).unwrap().collect();
    if !left.is_empty() {
        problems.push(format!("{} file(s) left in the -o directory", left.len()));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!("{name}: {}\nstderr:\n{err}", problems.join("; "))),
    }
}

#[test]
fn bad_configs_exit_2_naming_the_place() {
    let failures: Vec<String> = BAD
        .iter()
        .filter_map(|&(name, at, word)| check(name, at, word).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad configs misbehaved:\n\n{}",
        failures.len(),
        BAD.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_table_and_the_corpus_match() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("tests/bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".json").map(str::to_owned))
        .collect();
    files.sort();
    let mut names: Vec<String> = BAD
        .iter()
        .map(|(name, ..)| (*name).to_owned())
        .chain([FREEBSD_ONLY.to_owned()])
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "a name is twice in BAD");
    assert_eq!(files, names, "tests/bad/*.json and BAD differ");
    assert!(BAD.len() >= 30);
}

/// runtime-spec rejects `freebsd.jail.vnet: "disable"`; ociunit does not read the FreeBSD section
/// at all: `explain` reports it as dropped ("not a Linux setting"), and the only error is the
/// missing `process`.
#[test]
fn freebsd_section_is_dropped_not_checked() {
    let file = bad(FREEBSD_ONLY);
    let out = compile(&file, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("ociunit: warning: "))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "{}missing: a unit needs a command (process.args)",
            expected(&file, At::Path("process"))
        )],
        "{err}"
    );

    let out = ociunit(&[
        "explain",
        file.to_str().unwrap(),
        "--system",
        "--systemd-version",
        "252",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2), "explain: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let freebsd = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "freebsd")
        .expect("explain accounts for the freebsd section");
    assert_eq!(freebsd["destinations"][0]["kind"], "dropped");
    assert_eq!(freebsd["destinations"][0]["why"], "not a Linux setting");
}

#[test]
fn a_missing_bundle_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-bundle");
    let out = compile(&missing, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("ociunit: {}: ", missing.display())),
        "{err}"
    );
    assert!(err.contains("cannot read the bundle's config"), "{err}");

    // A directory without config.json: the error names the config.json it looked for.
    let out = compile(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let config = dir.path().join("config.json");
    assert!(
        err.starts_with(&format!("ociunit: {}: ", config.display())),
        "{err}"
    );
}

#[test]
fn a_relative_launcher_is_a_usage_error() {
    let bundle = repo().join("tests/bundles/minimal");
    let out = ociunit(&[
        "compile",
        bundle.to_str().unwrap(),
        "--system",
        "--systemd-version",
        "252",
        "--launcher",
        "bin/ociunit-launch",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must be an absolute path"));
}

/// A dropped field is a warning; `--strict` makes it an error (exit 2) and then nothing is
/// written.
#[test]
fn strict_turns_a_drop_into_an_error() {
    // linux.resources.network is cgroup v1 only: the one field this bundle drops.
    let bundle = repo().join("tests/bundles/res-network");
    let config = bundle.join("config.json");
    let warning = format!(
        "ociunit: warning: {}: linux.resources.network: dropped: ",
        config.display()
    );

    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("res-network.service");
    let out = compile(&bundle, &["-o", unit.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.lines().collect::<Vec<_>>().len(), 1, "{err}");
    assert!(err.starts_with(&warning), "{err}");
    assert!(unit.is_file(), "the unit was not written");
    std::fs::remove_file(&unit).unwrap();

    let out = compile(&bundle, &["--strict", "-o", unit.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let error = format!(
        "ociunit: {}: linux.resources.network: dropped: ",
        config.display()
    );
    assert!(err.starts_with(&error), "{err}");
    assert!(err.trim_end().ends_with("(--strict)"), "{err}");
    assert!(!unit.exists(), "--strict wrote the unit anyway");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A bundle that drops nothing compiles under --strict too.
    let out = compile(&repo().join("tests/bundles/res-memory"), &["--strict"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A bad device rule is bad for a user unit too, although a user manager does not enforce
/// device rules (they are dropped, with a warning, when they are right).
#[test]
fn device_rules_are_invalid_for_user_units_too() {
    for &(name, at, word) in BAD.iter().filter(|(name, ..)| name.starts_with("devices-")) {
        let file = bad(name);
        let out = compile_for("--user", &file, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let prefix = expected(&file, at);
        assert!(
            err.lines()
                .any(|line| line.starts_with(&prefix) && line.contains(word)),
            "{name}: {err}"
        );
    }
}

/// A bad bundle compiled with `-o` over an existing generated unit leaves that unit as it was.
#[test]
fn a_bad_bundle_leaves_an_existing_unit_alone() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("app.service");
    let good = repo().join("tests/bundles/minimal");
    let out = compile(&good, &["-o", unit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = std::fs::read(&unit).unwrap();

    let out = compile(&bad("memory-limit-0"), &["-o", unit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read(&unit).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
