//! The real `ociunit-launch` binary, executing real payloads: what the payload sees (argv, env,
//! cwd, limits, umask) and the exit codes a unit's status will show. Cgroup work runs over a fake
//! tree in a temporary directory through the binary's test hook, `OCIUNIT_LAUNCH_CGROUP_ROOT`.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::test::{BUILT_LAUNCHER, Test};

fn launch(args: &[&str]) -> Test {
    Test::new().program(BUILT_LAUNCHER).args(args)
}

/// What the payload printed, once it succeeded.
fn stdout(launch: Test) -> String {
    launch.status(0).run().stdout
}

/// A failure before the payload ran: the exit code, and the one stderr line without its prefix.
#[allow(
    clippy::needless_pass_by_value,
    reason = "takes the built Test, as stdout() does"
)]
fn failure(launch: Test) -> (i32, String) {
    let output = launch.run();
    let err = &output.stderr;
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    let line = err
        .strip_prefix("ociunit-launch: ")
        .unwrap_or_else(|| panic!("no prefix: {err}"));
    assert!(
        output.stdout.is_empty(),
        "the payload ran: {:?}",
        output.stdout
    );
    (output.status.unwrap(), line.trim_end().to_owned())
}

/// The value of a `Name:\tvalue` line of /proc/<payload>/status, read by the payload itself.
fn status_field(args: &[&str], field: &str) -> String {
    let out = stdout(launch(
        &[args, &["--", "/bin/cat", "/proc/self/status"]].concat(),
    ));
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap();
    line.split_once(':').unwrap().1.trim().to_owned()
}

#[test]
fn the_payload_gets_its_arguments_verbatim() {
    let print_args = r#"for a in "$@"; do printf '[%s]\n' "$a"; done"#;
    let tricky = [
        "",
        "a b",
        "'single'",
        "\"double\"",
        "--",
        "--leaf",
        "x=y",
        "é ü 日本",
        " ",
    ];
    let args = [&["--", "/bin/sh", "-c", print_args, "sh"][..], &tricky].concat();
    let expected = tricky.iter().fold(String::new(), |mut out, a| {
        let _ = writeln!(out, "[{a}]");
        out
    });
    assert_eq!(stdout(launch(&args)), expected);
}

/// The payload replaces the launcher, so it reads what the unit's stdin carries (`run --pipe`).
#[test]
fn the_payload_reads_the_launchers_stdin() {
    let text = "line 1\n\u{0}binary\u{7f}\n";
    launch(&["--", "/bin/cat"])
        .stdin(text)
        .status(0)
        .stdout(text)
        .run();
}

#[test]
fn argv0_is_the_program_as_given() {
    let out = stdout(launch(&["--", "/bin/cat", "/proc/self/cmdline"]));
    assert_eq!(out, "/bin/cat\0/proc/self/cmdline\0");
    let out = stdout(launch(&["--", "cat", "/proc/self/cmdline"]));
    assert_eq!(out, "cat\0/proc/self/cmdline\0");
}

#[test]
fn clear_env_gives_exactly_the_given_variables() {
    let out = launch(&[
        "--clear-env",
        "--env",
        "A=1",
        "--env",
        "B=x y=z",
        "--env",
        "E=",
        "--",
        "/usr/bin/env",
    ]);
    assert_eq!(stdout(out), "A=1\nB=x y=z\nE=\n");
}

#[test]
fn without_clear_env_the_environment_is_inherited_and_overridden() {
    let out = stdout(
        launch(&[
            "--env",
            "CHANGED=new",
            "--env",
            "ADDED=é",
            "--",
            "/usr/bin/env",
        ])
        .env("KEPT", "1")
        .env("CHANGED", "old"),
    );
    let vars: Vec<&str> = out.lines().collect();
    assert!(
        vars.contains(&"KEPT=1") && vars.contains(&"ADDED=é"),
        "{out}"
    );
    assert_eq!(
        vars.iter()
            .filter(|v| v.starts_with("CHANGED="))
            .collect::<Vec<_>>(),
        [&"CHANGED=new"]
    );
}

#[test]
fn a_bare_program_is_searched_in_the_payload_path() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hello-payload");
    fs::write(&script, "#!/bin/sh\necho found \"$0\"\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("PATH=/nonexistent::{}", dir.path().display());
    let out = launch(&["--clear-env", "--env", &path, "--", "hello-payload"]);
    assert_eq!(stdout(out), format!("found {}\n", script.display()));
    // With no PATH at all, systemd's default applies.
    assert_eq!(
        stdout(launch(&["--clear-env", "--", "sh", "-c", "echo ok"])),
        "ok\n"
    );
}

#[test]
fn cwd_umask_rlimits_oom_score_and_no_new_privs_reach_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("work dir");
    fs::create_dir(&cwd).unwrap();
    let cwd = cwd.to_str().unwrap();
    assert_eq!(
        stdout(launch(&["--cwd", cwd, "--", "/bin/pwd"])),
        format!("{cwd}\n")
    );

    assert_eq!(
        stdout(launch(&["--umask", "0027", "--", "/bin/sh", "-c", "umask"])),
        "0027\n"
    );
    assert_eq!(status_field(&["--umask", "0077"], "Umask"), "0077");

    let limits = stdout(launch(&[
        "--rlimit",
        "NOFILE=100:200",
        "--rlimit",
        "CORE=0:infinity",
        "--",
        "/bin/cat",
        "/proc/self/limits",
    ]));
    let row = |name: &str| {
        let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..]
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(row("Max open files"), "100 200");
    assert_eq!(row("Max core file size"), "0 unlimited");
    let soft = launch(&[
        "--rlimit",
        "NOFILE=64:64",
        "--",
        "/bin/sh",
        "-c",
        "ulimit -n",
    ]);
    assert_eq!(stdout(soft), "64\n");

    let oom = launch(&[
        "--oom-score-adj",
        "500",
        "--",
        "/bin/cat",
        "/proc/self/oom_score_adj",
    ]);
    assert_eq!(stdout(oom), "500\n");
    assert_eq!(status_field(&["--no-new-privs"], "NoNewPrivs"), "1");
}

#[test]
fn the_payload_does_not_inherit_an_ignored_sigpipe() {
    let ignored = u64::from_str_radix(&status_field(&[], "SigIgn"), 16).unwrap();
    assert_eq!(
        ignored & (1 << (13 - 1)),
        0,
        "SIGPIPE ignored: {ignored:#x}"
    );
}

#[test]
fn the_payload_replaces_the_launcher_and_its_exit_code_passes_through() {
    let out = launch(&["--", "/bin/sh", "-c", "echo $$; exit 42"])
        .status(42)
        .run();
    assert_eq!(out.stdout, format!("{}\n", out.pid));
}

#[test]
fn usage_errors_exit_125() {
    for args in [
        &[][..],
        &["/bin/true"],
        &["--bogus", "--", "/bin/true"],
        &["--write", "cgroup.procs=1", "--", "/bin/true"],
    ] {
        let (code, line) = failure(launch(args));
        assert_eq!(code, 125, "{args:?}: {line}");
        assert!(line.contains("usage: ociunit-launch"), "{line}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let text = stdout(launch(&["--help"]));
    assert!(text.starts_with("usage: ociunit-launch [OPTION]... -- PROGRAM [ARG]...\n"));
    for option in [
        "--leaf NAME",
        "--write FILE=VALUE",
        "--no-new-privs",
        "--version",
    ] {
        assert!(text.contains(option), "{option}: {text}");
    }
    let version = launch(&["--version"]);
    assert_eq!(
        stdout(version),
        format!("ociunit-launch {}\n", env!("CARGO_PKG_VERSION"))
    );
    // After `--`, --help is the payload's.
    assert_eq!(
        stdout(launch(&["--", "/bin/echo", "x", "--help"])),
        "x --help\n"
    );
}

/// An option with one value, given twice, is a usage error rather than "the last one wins".
#[test]
fn a_repeated_single_valued_option_exits_125() {
    for (option, a, b) in [
        ("--leaf", "a", "b"),
        ("--cwd", "/", "/tmp"),
        ("--umask", "022", "077"),
        ("--oom-score-adj", "0", "1"),
        ("--rlimit", "CORE=0:0", "CORE=1:1"),
    ] {
        let (code, line) = failure(launch(&[option, a, option, b, "--", "/bin/true"]));
        assert_eq!(code, 125, "{line}");
        assert!(line.contains("given twice"), "{line}");
    }
}

/// A NOFILE hard limit above fs.nr_open is refused with EPERM even to root: the message names
/// fs.nr_open, not a capability.
#[test]
fn a_nofile_limit_above_nr_open_names_fs_nr_open() {
    let nr_open: u64 = fs::read_to_string("/proc/sys/fs/nr_open")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let rlimit = format!("NOFILE=1024:{}", nr_open + 1);
    let (code, line) = failure(launch(&["--rlimit", &rlimit, "--", "/bin/true"]));
    assert_eq!(code, 125);
    assert!(line.contains("EPERM (Operation not permitted)"), "{line}");
    assert!(
        line.contains(&format!("above fs.nr_open ({nr_open})")),
        "{line}"
    );
    assert!(!line.contains("CAP_SYS_RESOURCE"), "{line}");
}

#[test]
fn a_missing_program_exits_127_and_an_unrunnable_one_126() {
    let (code, line) = failure(launch(&["--", "/nonexistent/program"]));
    assert_eq!(
        (code, line.as_str()),
        (
            127,
            "cannot execute \"/nonexistent/program\": ENOENT (No such file or directory)"
        )
    );
    let (code, line) = failure(launch(&[
        "--clear-env",
        "--env",
        "PATH=/nonexistent",
        "--",
        "no-such-program",
    ]));
    assert_eq!(code, 127);
    assert!(line.ends_with("not found in PATH=/nonexistent"), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    fs::write(&plain, "#!/bin/sh\necho should not run\n").unwrap();
    let (code, line) = failure(launch(&["--", plain.to_str().unwrap()]));
    assert_eq!(code, 126);
    assert!(line.ends_with("EACCES (Permission denied)"), "{line}");
    // An executable that is neither ELF nor a script: systemd would refuse it, and so does the
    // launcher, rather than handing it to /bin/sh as execvp(3) would.
    let garbage = dir.path().join("garbage");
    fs::write(&garbage, "echo should not run\n").unwrap();
    fs::set_permissions(&garbage, fs::Permissions::from_mode(0o755)).unwrap();
    let (code, line) = failure(launch(&["--", garbage.to_str().unwrap()]));
    assert_eq!(code, 126);
    assert!(line.ends_with("ENOEXEC (Exec format error)"), "{line}");
    let (code, line) = failure(launch(&["--cwd", "/nonexistent", "--", "/bin/true"]));
    assert_eq!(code, 125, "{line}");
}

/// A delegated cgroup as the kernel shows it, with a populated leaf `payload`.
fn fake_cgroup(root: &Path, available: &str, leaf_files: &[&str]) {
    fs::write(root.join("cgroup.controllers"), available).unwrap();
    fs::write(root.join("cgroup.subtree_control"), "").unwrap();
    fs::create_dir(root.join("payload")).unwrap();
    for file in ["cgroup.procs"].iter().chain(leaf_files) {
        fs::write(root.join("payload").join(file), "").unwrap();
    }
}

fn launch_in(root: &Path, args: &[&str]) -> Test {
    launch(args).env("OCIUNIT_LAUNCH_CGROUP_ROOT", root)
}

/// The test hook's variable is the launcher's alone, with and without cgroup work.
#[test]
fn the_payload_does_not_inherit_the_test_hook() {
    let dir = tempfile::tempdir().unwrap();
    fake_cgroup(dir.path(), "memory", &["memory.max"]);
    for args in [
        &["--", "/usr/bin/env"][..],
        &[
            "--leaf",
            "payload",
            "--write",
            "memory.max=1",
            "--",
            "/usr/bin/env",
        ],
    ] {
        let env = stdout(launch_in(dir.path(), args));
        assert!(env.contains("PATH="), "{env}");
        assert!(!env.contains("OCIUNIT_LAUNCH_CGROUP_ROOT"), "{env}");
    }
}

#[test]
fn finishes_the_cgroup_setup_then_runs_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fake_cgroup(
        root,
        "cpu memory pids",
        &["memory.max", "cpu.max", "pids.max"],
    );
    let out = launch_in(
        root,
        &[
            "--leaf",
            "payload",
            "--controllers",
            "cpu",
            "--write",
            "memory.max=1073741824",
            "--write",
            "pids.max=64",
            "--",
            "/bin/sh",
            "-c",
            "echo ran",
        ],
    )
    .status(0)
    .stdout("ran\n")
    .run();
    let read = |file: &str| fs::read_to_string(root.join(file)).unwrap();
    assert_eq!(read("payload/cgroup.procs"), out.pid.to_string());
    assert_eq!(read("cgroup.subtree_control"), "+cpu +memory +pids");
    assert_eq!(read("payload/memory.max"), "1073741824");
    assert_eq!(read("payload/pids.max"), "64");
    assert_eq!(read("payload/cpu.max"), "");
}

#[test]
fn a_controller_that_is_not_delegated_stops_the_launch_with_125() {
    let dir = tempfile::tempdir().unwrap();
    fake_cgroup(dir.path(), "memory pids", &["io.max"]);
    let out = launch_in(
        dir.path(),
        &[
            "--leaf",
            "payload",
            "--write",
            "io.max=8:0 rbps=1",
            "--",
            "/bin/echo",
            "ran",
        ],
    );
    let (code, line) = failure(out);
    assert_eq!(code, 125);
    assert!(line.starts_with("io controller not delegated"), "{line}");
}

#[test]
fn a_failed_write_stops_the_launch_unless_best_effort() {
    let dir = tempfile::tempdir().unwrap();
    fake_cgroup(dir.path(), "memory", &["memory.max"]);
    let args = [
        "--leaf",
        "payload",
        "--write",
        "memory.swap.max=0",
        "--write",
        "memory.max=4096",
    ];
    let run = [&args[..], &["--", "/bin/echo", "ran"]].concat();
    let (code, line) = failure(launch_in(dir.path(), &run));
    let swap = dir.path().join("payload/memory.swap.max");
    assert_eq!(code, 125);
    assert_eq!(
        line,
        format!(
            "cannot write \"0\" to {}: ENOENT (No such file or directory); swap accounting is off \
             (kernel without CONFIG_MEMCG_SWAP, or booted with swapaccount=0)",
            swap.display()
        )
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("payload/memory.max")).unwrap(),
        ""
    );

    let best_effort = [&args[..], &["--best-effort", "--", "/bin/echo", "ran"]].concat();
    let warning = launch_in(dir.path(), &best_effort)
        .status(0)
        .stdout("ran\n")
        .run()
        .stderr;
    assert!(
        warning.starts_with("ociunit-launch: warning: cannot write \"0\" to "),
        "{warning}"
    );
    assert!(
        warning.trim_end().ends_with("(continuing: --best-effort)"),
        "{warning}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("payload/memory.max")).unwrap(),
        "4096"
    );
}

/// `--capability-bounding-set`, which `run --scope` uses: with CAP_SETPCAP the payload's bounding
/// set (and for root its permitted and effective sets) is exactly the list; without it the
/// launch stops with 125 instead of running with more.
#[test]
fn the_bounding_set_shrinks_or_the_launch_stops() {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let own = |field: &str| {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap();
        let first = line.split_whitespace().nth(1).unwrap();
        u64::from_str_radix(first, 16).unwrap()
    };
    let can_drop = own("CapEff") & (1 << 8) != 0;
    let root = own("Uid") == 0;
    // CAP_KILL and CAP_NET_BIND_SERVICE
    let keep = ["--capability-bounding-set", "CAP_KILL,CAP_NET_BIND_SERVICE"];
    if !can_drop {
        let out = launch(&[&keep[..], &["--", "/bin/true"]].concat());
        let (code, message) = failure(out);
        assert_eq!(code, 125, "{message}");
        assert!(message.contains("needs CAP_SETPCAP"), "{message}");
        return;
    }
    assert_eq!(status_field(&keep, "CapBnd"), "0000000000000420");
    assert_eq!(
        status_field(&["--capability-bounding-set", ""], "CapBnd"),
        "0000000000000000"
    );
    if root {
        assert_eq!(status_field(&keep, "CapEff"), "0000000000000420");
        assert_eq!(status_field(&keep, "CapInh"), "0000000000000000");
    }
}
