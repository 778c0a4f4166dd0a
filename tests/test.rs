//! `Test`, the one way these tests run the built binaries: every run gets a scratch directory, a
//! clean environment (nothing reaches the bus, home or state of whoever runs the tests), a
//! deadline (a hang fails the test instead of the suite), and its failure message shows the
//! command line with both outputs.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

/// The launcher path units name. Tests never run it there: tests/verify.rs and the VM suite put
/// a launcher in its place.
pub const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

/// The system manager of systemd 252 with the placeholder launcher: a target that asks nothing of
/// the host.
pub const SYSTEM_252: [&str; 5] = [
    "--system",
    "--systemd-version",
    "252",
    "--launcher",
    LAUNCHER,
];

/// The system manager of systemd 257, with the stand-in `crun`'s version: a target for
/// container mode that asks nothing of the host.
pub const SYSTEM_257: [&str; 7] = [
    "--system",
    "--systemd-version",
    "257",
    "--launcher",
    LAUNCHER,
    "--runtime-version",
    "1.21",
];

/// The launcher this build made, for the tests that run it.
pub const BUILT_LAUNCHER: &str = env!("CARGO_BIN_EXE_ociunit-launch");

/// What `Test::new` runs; the generator's tests also link to it by systemd's name for it.
pub const OCIUNIT: &str = env!("CARGO_BIN_EXE_ociunit");

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus bundle `name`, in place.
pub fn bundle(name: &str) -> PathBuf {
    repo().join("tests/bundles").join(name)
}

/// One command to run and what it must do. Clones share the scratch directory, so a test can
/// run several commands over the same files; the directory is removed with the last clone, so
/// keep one while reading what a run wrote.
#[derive(Clone)]
#[must_use = "a Test runs nothing until .run()"]
pub struct Test {
    scratch: Rc<tempfile::TempDir>,
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    host_environment: bool,
    current_dir: Option<PathBuf>,
    stdin: Vec<u8>,
    deadline: Duration,
    status: Option<i32>,
    expected: Vec<Expected>,
}

/// Text that one of the streams (`"stdout"` or `"stderr"`) must be, or contain.
#[derive(Clone)]
struct Expected {
    stream: &'static str,
    whole: bool,
    text: String,
}

/// What a run printed, and how it ended.
pub struct Output {
    /// `None` when a signal ended it.
    pub status: Option<i32>,
    /// The launcher's tests compare it with what the payload sees: an exec keeps the pid.
    pub pid: u32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("{err}: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl Test {
    /// `ociunit` in an empty scratch directory, which is also its working directory.
    pub fn new() -> Test {
        Test {
            scratch: Rc::new(tempfile::tempdir().expect("a scratch directory")),
            program: OCIUNIT.into(),
            args: Vec::new(),
            env: Vec::new(),
            host_environment: false,
            current_dir: None,
            stdin: Vec::new(),
            deadline: Duration::from_secs(60),
            status: None,
            expected: Vec::new(),
        }
    }

    /// Another binary in the same scratch directory: the launcher, or a link to ociunit.
    pub fn program(mut self, program: impl AsRef<Path>) -> Test {
        program.as_ref().clone_into(&mut self.program);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Test {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Test {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Set on top of the clean environment; a later value of the same name wins.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Test {
        self.env.push((name.into(), value.as_ref().to_owned()));
        self
    }

    /// The environment `cargo test` runs in instead of the clean one: only for what needs the
    /// user manager of whoever runs the tests, and copes without one.
    pub fn host_environment(mut self) -> Test {
        self.host_environment = true;
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Test {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Test {
        self.stdin = bytes.into();
        self
    }

    /// After this long the command is killed and the test fails.
    pub fn deadline(mut self, deadline: Duration) -> Test {
        self.deadline = deadline;
        self
    }

    /// A `crun` first on `PATH` that only says its version: enough for container mode to be
    /// chosen, and with `--runtime-version` it is not even run. No test depends on the host's
    /// runtime.
    pub fn stand_in_crun(self) -> Test {
        self.write(
            "bin/crun",
            "#!/bin/sh\necho 'crun version 1.21'\necho 'commit: x'\n",
        );
        fs::set_permissions(self.path("bin/crun"), fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub fn status(mut self, code: i32) -> Test {
        self.status = Some(code);
        self
    }

    pub fn stdout(self, text: impl Into<String>) -> Test {
        self.expect("stdout", true, text.into())
    }

    pub fn stdout_contains(self, text: impl Into<String>) -> Test {
        self.expect("stdout", false, text.into())
    }

    pub fn stderr(self, text: impl Into<String>) -> Test {
        self.expect("stderr", true, text.into())
    }

    pub fn stderr_contains(self, text: impl Into<String>) -> Test {
        self.expect("stderr", false, text.into())
    }

    fn expect(mut self, stream: &'static str, whole: bool, text: String) -> Test {
        self.expected.push(Expected {
            stream,
            whole,
            text,
        });
        self
    }

    /// An error: exit `code`, `message` on stderr, nothing on stdout (no unit, no document).
    pub fn fails(self, code: i32, message: &str) -> Test {
        self.status(code).stdout("").stderr_contains(message)
    }

    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// Writes `name` in the scratch directory, with the directories it needs.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    /// A copy of the corpus bundle `from` (its `config.json`) as the directory `to`.
    pub fn copy_bundle(&self, from: &str, to: &str) -> PathBuf {
        let config = fs::read(bundle(from).join("config.json")).unwrap();
        self.write(&format!("{to}/config.json"), config)
            .parent()
            .unwrap()
            .to_owned()
    }

    /// Checks `contents` against `snapshots/NAME.snap`, with the scratch directory as
    /// `[SCRATCH]`.
    pub fn snapshot(&self, name: &str, contents: &str) {
        let contents = contents.replace(&*self.scratch().to_string_lossy(), "[SCRATCH]");
        snapshot(name, None, &contents);
    }

    /// Runs the command, checks what was expected of it, and returns what it did.
    #[track_caller]
    pub fn run(&self) -> Output {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(self.current_dir.as_deref().unwrap_or(self.scratch()));
        if !self.host_environment {
            command.env_clear().envs(self.clean_environment());
        }
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        // Files rather than pipes: nothing to drain while waiting, and no deadlock when the
        // command leaves a child holding its output open.
        let mut stdin = tempfile::tempfile().unwrap();
        stdin.write_all(&self.stdin).unwrap();
        stdin.rewind().unwrap();
        let stdout = tempfile::tempfile().unwrap();
        let stderr = tempfile::tempfile().unwrap();
        let mut child = command
            .stdin(stdin)
            .stdout(stdout.try_clone().unwrap())
            .stderr(stderr.try_clone().unwrap())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", self.program.display()));
        let pid = child.id();
        let victim = rustix::process::Pid::from_child(&child);
        let (done, exited) = mpsc::channel();
        std::thread::spawn(move || done.send(child.wait()));
        let status = if let Ok(status) = exited.recv_timeout(self.deadline) {
            status.unwrap()
        } else {
            let _ = rustix::process::kill_process(victim, rustix::process::Signal::KILL);
            let _ = exited.recv();
            panic!(
                "{} did not finish in {:?}",
                self.command_line(),
                self.deadline
            );
        };
        let output = Output {
            status: status.code(),
            pid,
            stdout: read_text(stdout, "stdout", self),
            stderr: read_text(stderr, "stderr", self),
        };
        self.check(&output);
        output
    }

    /// Paths in the scratch directory that do not exist: a command looking for a bus, a
    /// configuration or state finds none, and one that writes state writes it there. `bin/`
    /// comes first on `PATH` for the stand-ins.
    fn clean_environment(&self) -> [(&str, PathBuf); 9] {
        let nothing = |name: &str| self.path(&format!("no-{name}"));
        let bus = |name: &str| PathBuf::from(format!("unix:path={}", nothing(name).display()));
        let path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            self.path("bin").display()
        );
        [
            ("PATH", path.into()),
            ("HOME", nothing("home")),
            ("XDG_RUNTIME_DIR", nothing("runtime-dir")),
            ("XDG_CONFIG_HOME", nothing("config-home")),
            ("XDG_STATE_HOME", nothing("state-home")),
            ("XDG_DATA_HOME", nothing("data-home")),
            ("XDG_CACHE_HOME", nothing("cache-home")),
            ("DBUS_SESSION_BUS_ADDRESS", bus("session-bus")),
            ("DBUS_SYSTEM_BUS_ADDRESS", bus("system-bus")),
        ]
    }

    #[track_caller]
    fn check(&self, output: &Output) {
        let mut problems = Vec::new();
        match self.status {
            Some(code) if output.status != Some(code) => {
                problems.push(format!("not exit status {code}"));
            }
            _ => {}
        }
        for Expected {
            stream,
            whole,
            text,
        } in &self.expected
        {
            let actual = if *stream == "stdout" {
                &output.stdout
            } else {
                &output.stderr
            };
            if *whole && actual != text {
                problems.push(format!("{stream} is not {text:?}"));
            } else if !whole && !actual.contains(text.as_str()) {
                problems.push(format!("{stream} does not contain {text:?}"));
            }
        }
        assert!(
            problems.is_empty(),
            "{}: {}\nexit status: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.command_line(),
            problems.join("; "),
            output.status,
            output.stdout,
            output.stderr
        );
    }

    fn command_line(&self) -> String {
        let mut line = self.program.display().to_string();
        for arg in &self.args {
            let _ = write!(line, " {arg:?}");
        }
        line
    }
}

fn read_text(mut file: fs::File, what: &str, test: &Test) -> String {
    let mut text = String::new();
    file.rewind().unwrap();
    file.read_to_string(&mut text)
        .unwrap_or_else(|err| panic!("{}: {what} is not UTF-8: {err}", test.command_line()));
    text
}

/// Checks `contents` against `snapshots/NAME.snap` (the same name from every module), with the
/// repository as `[REPO]` and the hashes and sizes that depend on paths masked, so that the
/// snapshots do not depend on where the repository is cloned. `description` is the line a
/// reviewer reads above the contents.
pub fn snapshot(name: &str, description: Option<String>, contents: &str) {
    let contents = contents.replace(env!("CARGO_MANIFEST_DIR"), "[REPO]");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    if let Some(description) = description {
        settings.set_description(description);
    }
    for (pattern, replacement) in [
        (
            "RuntimeConfigSha256=[0-9a-f]{64}",
            "RuntimeConfigSha256=[SHA256]",
        ),
        ("UnitSha256=[0-9a-f]{64}", "UnitSha256=[UNIT-SHA256]"),
        ("\"bytes\": [0-9]+", "\"bytes\": [BYTES]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(|| insta::assert_snapshot!(name, &contents));
}
