//! Bad bundles: `ociunit compile` exits 2 and names the file and the place in it (the JSON path,
//! or line and column for text that is not JSON), and writes nothing.
//!
//! The corpus is `tests/bad/NAME.json` (`rs-*` are opencontainers/runtime-spec's
//! `schema/test/config/bad` fixtures at commit 6999a89, renamed); [`BAD`] says where each one is
//! wrong. Every file must be in the table and every entry must have a file.

use std::path::{Path, PathBuf};

use crate::test::{LAUNCHER, Output, Test, repo};

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
    ("args-nul", P("process.args[2]"), "NUL byte"),
    (
        "env-without-equals",
        P("process.env"),
        "process.env[1] \"JUSTANAME\"",
    ),
    ("env-empty-name", P("process.env"), "process.env[0]"),
    ("cwd-relative", P("process.cwd"), "absolute"),
    ("oom-score-adj-5000", P("process.oomScoreAdj"), "5000"),
    ("umask-01000", P("process.user.umask"), "512"),
    (
        "rlimit-soft-above-hard",
        P("process.rlimits[0]"),
        "soft limit is above",
    ),
    // Out-of-range resources.
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
        P("linux.resources.blockIO.throttleReadBpsDevice[0].rate"),
        "rate of 0",
    ),
    (
        "memory-limit-negative",
        P("linux.resources.memory.limit"),
        "-5",
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
        P("linux.resources.hugepageLimits[0].pageSize"),
        "\"64kB\"",
    ),
    (
        "hugepage-3MB",
        P("linux.resources.hugepageLimits[0].pageSize"),
        "\"3MB\"",
    ),
    (
        "hugepage-plus-4KB",
        P("linux.resources.hugepageLimits[0].pageSize"),
        "\"+4KB\"",
    ),
    (
        "rs-linux-hugepage",
        P("linux.resources.hugepageLimits[0].pageSize"),
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
    // org.systemd.property.* annotations: unknown properties and values are refused, and a
    // value never becomes unit syntax or a specifier.
    (
        "annotation-unknown-property",
        P("annotations[\"org.systemd.property.TimeoutStopUSec\"]"),
        "supported: MemoryMax",
    ),
    (
        "annotation-memory-max-0",
        P("annotations[\"org.systemd.property.MemoryMax\"]"),
        "systemd rejects 0",
    ),
    (
        "annotation-malformed-size",
        P("annotations[\"org.systemd.property.MemoryHigh\"]"),
        "\"lots\"",
    ),
    (
        "annotation-int32",
        P("annotations[\"org.systemd.property.TasksMax\"]"),
        "uint64 N",
    ),
    (
        "annotation-quota-uint64",
        P("annotations[\"org.systemd.property.CPUQuota\"]"),
        "CPUQuotaPerSecUSec",
    ),
    (
        "annotation-quota-twice",
        P("annotations[\"org.systemd.property.CPUQuotaPerSecUSec\"]"),
        "sets CPUQuota too",
    ),
    (
        "annotation-newline",
        P("annotations[\"org.systemd.property.MemoryMax\"]"),
        "control character",
    ),
    (
        "annotation-cpus-newline",
        P("annotations[\"org.systemd.property.AllowedCPUs\"]"),
        "control character",
    ),
    (
        "annotation-specifier",
        P("annotations[\"org.systemd.property.AllowedCPUs\"]"),
        "\"%n\"",
    ),
    (
        "annotation-semicolon",
        P("annotations[\"org.systemd.property.CPUQuota\"]"),
        "a percentage",
    ),
    // Values systemd refuses in a unit file, so the unit would never start.
    ("uid-65535", P("process.user.uid"), "not valid IDs"),
    ("uid-4294967295", P("process.user.uid"), "not valid IDs"),
    ("gid-65535", P("process.user.gid"), "not valid IDs"),
    (
        "additional-gid-65535",
        P("process.user.additionalGids"),
        "not valid IDs",
    ),
    (
        "quota-too-large",
        P("linux.resources.cpu.quota"),
        "21474836%",
    ),
    // An array where an object belongs: serde would read it by position.
    ("user-array", P("process.user"), ARRAY),
    ("pids-array", P("linux.resources.pids"), ARRAY),
    ("resources-array", P("linux.resources"), ARRAY),
    ("process-array", P("process"), ARRAY),
    ("linux-array", P("linux"), ARRAY),
    ("memory-array", P("linux.resources.memory"), ARRAY),
    (
        "hugepage-entry-array",
        P("linux.resources.hugepageLimits[0]"),
        ARRAY,
    ),
    ("rlimit-entry-array", P("process.rlimits[0]"), ARRAY),
    // A field runtime-spec requires, which oci-spec-rs would fill in (a limit of 0…).
    (
        "hugepage-limit-missing",
        P("linux.resources.hugepageLimits[0].limit"),
        REQUIRED,
    ),
    (
        "hugepage-pagesize-missing",
        P("linux.resources.hugepageLimits[0].pageSize"),
        REQUIRED,
    ),
    (
        "hugepage-pagesize-twice",
        P("linux.resources.hugepageLimits[0].pagesize"),
        "keep one",
    ),
    (
        "pids-limit-missing",
        P("linux.resources.pids.limit"),
        REQUIRED,
    ),
    (
        "rlimit-hard-missing",
        P("process.rlimits[0].hard"),
        REQUIRED,
    ),
    (
        "rlimit-type-missing",
        P("process.rlimits[0].type"),
        REQUIRED,
    ),
    ("cwd-missing", P("process.cwd"), REQUIRED),
    (
        "uid-mapping-size-missing",
        P("linux.uidMappings[0].size"),
        REQUIRED,
    ),
    (
        "weight-device-major-missing",
        P("linux.resources.blockIO.weightDevice[0].major"),
        REQUIRED,
    ),
    (
        "throttle-rate-missing",
        P("linux.resources.blockIO.throttleWriteIOPSDevice[0].rate"),
        REQUIRED,
    ),
    (
        "device-rule-allow-missing",
        P("linux.resources.devices[0].allow"),
        REQUIRED,
    ),
    (
        "console-size-width-missing",
        P("process.consoleSize.width"),
        REQUIRED,
    ),
    (
        "io-priority-class-missing",
        P("process.ioPriority.class"),
        REQUIRED,
    ),
    ("root-path-missing", P("root.path"), REQUIRED),
    // Numbers: out of range, or not integers (serde_json reads 2^64 as a float).
    (
        "shares-above-u64",
        P("linux.resources.cpu.shares"),
        "18446744073709551616 is out of range (0..18446744073709551615)",
    ),
    (
        "shares-fraction",
        P("linux.resources.cpu.shares"),
        "expected an integer",
    ),
    (
        "memory-limit-above-i64",
        P("linux.resources.memory.limit"),
        "9223372036854775808 is out of range (-9223372036854775808..9223372036854775807)",
    ),
    (
        "uid-negative",
        P("process.user.uid"),
        "-1 is out of range (0..4294967295)",
    ),
    (
        "period-exponent",
        P("linux.resources.cpu.period"),
        "expected an integer",
    ),
    // Device numbers, at the number that is wrong (12 bits of major, 20 of minor).
    (
        "weight-device-major-negative",
        P("linux.resources.blockIO.weightDevice[0].major"),
        "-2 is not a device major number",
    ),
    (
        "weight-device-minor-too-large",
        P("linux.resources.blockIO.weightDevice[0].minor"),
        "(0..1048575)",
    ),
    (
        "throttle-major-4096",
        P("linux.resources.blockIO.throttleReadBpsDevice[0].major"),
        "(0..4095)",
    ),
    // Long values are quoted cut, with their length.
    (
        "rlimit-type-long",
        P("process.rlimits[0].type"),
        "… (5007 bytes)",
    ),
    (
        "hugepage-pagesize-long",
        P("linux.resources.hugepageLimits[0].pageSize"),
        "… (3002 bytes)",
    ),
    (
        "env-long-without-equals",
        P("process.env"),
        "… (5000 bytes)",
    ),
    // Commands and directories that cannot start.
    ("args0-empty", P("process.args[0]"), "no program to run"),
    ("cwd-nul", P("process.cwd"), "NUL"),
    ("cwd-component-too-long", P("process.cwd"), "ENAMETOOLONG"),
    (
        "oom-score-adj-minus-1001",
        P("process.oomScoreAdj"),
        "-1001",
    ),
    (
        "swap-with-limit-0",
        P("linux.resources.memory.swap"),
        "needs a positive memory.limit",
    ),
    (
        "notify-maybe",
        P("annotations[\"org.ociunit.notify\"]"),
        "expected \"true\" or \"false\"",
    ),
    // Security: an identity or a restriction that cannot be expressed is refused, never widened.
    (
        "capability-unknown",
        P("process.capabilities.bounding[1]"),
        "CAP_FLY",
    ),
    ("uid-unmapped", P("process.user.uid"), "5 is not mapped"),
    ("gid-unmapped", P("process.user.gid"), "7 is not mapped"),
    (
        "additional-gid-unmapped",
        P("process.user.additionalGids"),
        "additionalGids[1]: 9 is not mapped",
    ),
    (
        "userns-unmapped-system",
        P("process.user.uid"),
        "which for a system unit is root",
    ),
    ("userns-joined", P("process.user.uid"), "/proc/1/ns/user"),
    (
        "uidmapping-size-0",
        P("linux.uidMappings[0].size"),
        "maps no IDs",
    ),
    (
        "uidmapping-overflow",
        P("linux.uidMappings[0].size"),
        "past 4294967295",
    ),
    (
        "uidmapping-overlap",
        P("linux.uidMappings[1]"),
        "overlaps linux.uidMappings[0]",
    ),
    (
        "gidmapping-host-overlap",
        P("linux.gidMappings[1]"),
        "overlaps linux.gidMappings[0]",
    ),
    (
        "uidmapping-missing-hostid",
        P("linux.uidMappings[0].hostID"),
        "missing",
    ),
    ("gidmappings-missing", P("linux.gidMappings"), "missing"),
    (
        "uidmapping-string",
        P("linux.uidMappings[0].hostID"),
        "invalid type",
    ),
    (
        "apparmor-leading-dash",
        P("process.apparmorProfile"),
        "leading '-'",
    ),
    (
        "apparmor-trailing-space",
        P("process.apparmorProfile"),
        "whitespace",
    ),
    (
        "selinux-newline",
        P("process.selinuxLabel"),
        "control character",
    ),
    (
        "seccomp-group-name",
        P("linux.seccomp.syscalls[0].names[1]"),
        "\"@privileged\" is not a system call name",
    ),
    (
        "seccomp-errno-suffix",
        P("linux.seccomp.syscalls[0].names[0]"),
        "\"read:EPERM\"",
    ),
    (
        "seccomp-unknown-action",
        P("linux.seccomp.syscalls[0].action"),
        "SCMP_ACT_DENY",
    ),
    (
        "seccomp-unknown-arch",
        P("linux.seccomp.architectures[0]"),
        "SCMP_ARCH_Z80",
    ),
];

const ARRAY: &str = "expected an object, found an array";
const REQUIRED: &str = "missing: runtime-spec requires this field";

/// `rs-freebsd-vnet-disable.json` is bad only in its `freebsd` section, which ociunit does not
/// read (it drops non-Linux sections with a reason). It still fails, but because it has no
/// `process`; see [`freebsd_section_is_dropped_not_checked`].
const FREEBSD_ONLY: &str = "rs-freebsd-vnet-disable";

fn bad(name: &str) -> PathBuf {
    repo().join("tests/bad").join(format!("{name}.json"))
}

fn ociunit(args: &[&str]) -> Output {
    Test::new().args(args).run()
}

/// The target every bad config is compiled for, and the other end of the range: invalid is
/// invalid whatever the target.
const SYSTEM_252: &[&str] = &["--system", "--systemd-version", "252"];
const USER_257: &[&str] = &["--user", "--systemd-version", "257"];

fn compile(bundle: &Path, extra: &[&str]) -> Output {
    compile_for(bundle, SYSTEM_252, extra)
}

fn compile_for(bundle: &Path, target: &[&str], extra: &[&str]) -> Output {
    let bundle = bundle.to_str().unwrap();
    let mut args = vec!["compile", bundle, "--launcher", LAUNCHER];
    args.extend(target);
    args.extend(extra);
    ociunit(&args)
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
fn check(name: &str, at: At, word: &str, target: &[&str]) -> Result<(), String> {
    let file = bad(name);
    let out_dir = tempfile::tempdir().unwrap();
    let unit = out_dir.path().join("bad.service");
    let out = compile_for(&file, target, &["-o", unit.to_str().unwrap()]);
    let err = &out.stderr;
    let prefix = expected(&file, at);
    let mut problems = Vec::new();
    if out.status != Some(2) {
        problems.push(format!("exit status {:?}, not 2", out.status));
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
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name} ({}): {}\nstderr:\n{err}",
            target.join(" "),
            problems.join("; ")
        ))
    }
}

fn check_all(target: &[&str], except: &[&str]) {
    let failures: Vec<String> = BAD
        .iter()
        .filter(|(name, ..)| !except.contains(name))
        .filter_map(|&(name, at, word)| check(name, at, word, target).err())
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
fn bad_configs_exit_2_naming_the_place() {
    check_all(SYSTEM_252, &[]);
}

/// What is wrong with a bundle does not depend on the manager or the systemd version: a user
/// unit may drop what it cannot apply, but never accept what no unit can.
#[test]
fn bad_configs_are_bad_for_every_target() {
    // A user namespace without mappings is bad only for a system unit, where it would map 0 to
    // root; a user manager maps it to its own user, as crun does.
    check_all(USER_257, &["userns-unmapped-system"]);
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
    let err = &out.stderr;
    assert_eq!(out.status, Some(2), "{err}");
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
    assert_eq!(out.status, Some(2), "explain: {}", out.stderr);
    let json = out.json();
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
    assert_eq!(out.status, Some(2));
    let err = &out.stderr;
    assert!(
        err.starts_with(&format!("ociunit: {}: ", missing.display())),
        "{err}"
    );
    assert!(err.contains("cannot read the bundle's config"), "{err}");

    // A directory without config.json: the error names the config.json it looked for.
    let out = compile(dir.path(), &[]);
    assert_eq!(out.status, Some(2));
    let err = &out.stderr;
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
    assert_eq!(out.status, Some(2));
    assert!(out.stderr.contains("must be an absolute path"));
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
    let err = &out.stderr;
    assert_eq!(out.status, Some(0), "{err}");
    assert_eq!(err.lines().collect::<Vec<_>>().len(), 1, "{err}");
    assert!(err.starts_with(&warning), "{err}");
    assert!(unit.is_file(), "the unit was not written");
    std::fs::remove_file(&unit).unwrap();

    let out = compile(&bundle, &["--strict", "-o", unit.to_str().unwrap()]);
    let err = &out.stderr;
    assert_eq!(out.status, Some(2), "{err}");
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
    assert_eq!(out.status, Some(0), "{}", out.stderr);
}

/// A bad bundle compiled with `-o` over an existing generated unit leaves that unit as it was.
#[test]
fn a_bad_bundle_leaves_an_existing_unit_alone() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("app.service");
    let good = repo().join("tests/bundles/minimal");
    let out = compile(&good, &["-o", unit.to_str().unwrap()]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    let before = std::fs::read(&unit).unwrap();

    let out = compile(
        &bad("memory-limit-negative"),
        &["-o", unit.to_str().unwrap()],
    );
    assert_eq!(out.status, Some(2), "{}", out.stderr);
    assert_eq!(std::fs::read(&unit).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn minimal_with(edit: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("tests/bundles/minimal/config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut config);
    config
}

/// A unit systemd would not load, or a payload execve(2) could not start: exit 2 naming the field
/// and the limit. These bundles are megabytes, so they are made here rather than kept in
/// tests/bad/.
#[test]
fn units_systemd_would_not_load_are_refused() {
    use serde_json::json;
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (
            minimal_with(|c| c["process"]["args"][1] = json!(long(1 << 20))),
            "process.args[1]",
            "MAX_ARG_STRLEN",
        ),
        (
            minimal_with(|c| c["process"]["env"][0] = json!(format!("BIG={}", long(200_000)))),
            "process.env[0]",
            "MAX_ARG_STRLEN",
        ),
        (
            minimal_with(|c| {
                c["linux"] = json!({"resources": {"unified": {"io.latency": long(200_000)}}});
            }),
            "linux.resources.unified[\"io.latency\"]",
            "MAX_ARG_STRLEN",
        ),
        (
            minimal_with(|c| {
                let args = c["process"]["args"].as_array_mut().unwrap();
                args.extend((0..9).map(|_| json!(long(120_000))));
            }),
            "process.args",
            "LONG_LINE_MAX",
        ),
        (
            minimal_with(|c| {
                let devices: Vec<_> = (0..40_000)
                    .map(|minor| json!({"major": 8, "minor": minor, "weight": 100}))
                    .collect();
                c["linux"] = json!({"resources": {"blockIO": {"weightDevice": devices}}});
            }),
            "linux.resources.blockIO.weightDevice",
            "No buffer space available",
        ),
        (
            minimal_with(|c| {
                c["process"]["user"]["additionalGids"] =
                    json!((70_000..300_000).collect::<Vec<u32>>());
            }),
            "process.user.additionalGids",
            "SupplementaryGroups= line would be",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (index, (config, path, word)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("big-{index}.json"));
        std::fs::write(&file, config.to_string()).unwrap();
        let out = compile(&file, &[]);
        let err = &out.stderr;
        let prefix = expected(&file, At::Path(path));
        assert_eq!(out.status, Some(2), "{path}: {err}");
        assert!(out.stdout.is_empty(), "{path}: a unit was printed");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&prefix) && l.contains(word)),
            "{path}: no line starts with {prefix:?} and contains {word:?}:\n{err}"
        );
    }

    // 20 000 device weights make a 0.7 MB ExecStart= line, which systemd still loads.
    let config = minimal_with(|c| {
        let devices: Vec<_> = (0..20_000)
            .map(|minor| json!({"major": 8, "minor": minor, "weight": 100}))
            .collect();
        c["linux"] = json!({"resources": {"blockIO": {"weightDevice": devices}}});
    });
    let file = dir.path().join("20000-weights.json");
    std::fs::write(&file, config.to_string()).unwrap();
    let out = compile(&file, &[]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
}

/// A message quotes a long value cut, with its length, wherever the value is.
#[test]
fn long_values_are_cut_in_messages() {
    use serde_json::json;
    let huge = "x".repeat(100_000);
    let cases = [
        minimal_with(|c| c["linux"] = json!({"resources": {"cpu": {"shares": huge}}})),
        minimal_with(|c| c["linux"] = json!({"resources": {"cpu": {"cpus": huge}}})),
        minimal_with(|c| c["process"]["env"] = json!([huge])),
        minimal_with(|c| c["linux"] = json!({"resources": {"unified": {"memory.high": huge}}})),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (index, config) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("long-{index}.json"));
        std::fs::write(&file, config.to_string()).unwrap();
        let out = compile(&file, &[]);
        let err = &out.stderr;
        assert_eq!(out.status, Some(2), "{err}");
        assert!(
            err.len() < 1000,
            "case {index}: {} bytes of message",
            err.len()
        );
        assert!(err.contains("(100000 bytes)"), "case {index}: {err}");
    }
}
