//! `ociunit generate`: ociunit as a systemd generator (systemd.generator(7)), Quadlet's way of
//! declaring a service. Every bundle in the manager's bundle directory ([`bundles_dir`]) becomes
//! `NAME.service` at boot and at every `daemon-reload`, compiled exactly as `ociunit compile`
//! compiles it, container mode included.
//!
//! A generator runs before the manager can do anything else, so it keeps to the rules: no
//! D-Bus, no network, nothing written outside its output directory (a container's derived
//! config goes to `NORMAL_DIR/ociunit/ID/config.json`, beside the unit, not into the state
//! directory). And it is never silent: a bundle that does not compile still gets its unit, one
//! whose start fails printing the compiler's message, so the error is in `systemctl status` and
//! the journal rather than a unit that is just missing (Quadlet's most common complaint).

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::bundle::Bundle;
use crate::compile::{self, ConfigHome, Context, Request};
use crate::error::{Error, InputError, Location};
use crate::lifecycle;
use crate::output;
use crate::plan::container::Container;
use crate::regular_file::{self, Links, NotRead};
use crate::render::{escape, unit};
use crate::runtime::{self, Choice, Mode, Runtime};
use crate::target::{self, Manager, Target};

/// The name ociunit answers to as a generator: a link of this name to `ociunit` in
/// `system-generators/` and `user-generators/` runs `ociunit generate`.
pub const GENERATOR_NAME: &str = "ociunit-generator";

/// The file in a bundle's directory that enables its unit: the targets that want it, one per
/// line, or none for the manager's default (the unit's `WantedBy=`).
pub const ENABLE_FILE: &str = "enable";

/// Where the derived configs of container-mode bundles go, below the output directory: a name
/// without a unit suffix, which systemd does not load.
const CONFIG_SUBDIR: &str = "ociunit";

/// The directory of declared bundles: `$XDG_CONFIG_HOME/ociunit/bundles` (`~/.config/…`) for a
/// user manager, `/etc/ociunit/bundles` for the system manager.
pub fn bundles_dir(manager: Manager) -> Result<PathBuf, Error> {
    match manager {
        Manager::System => Ok(PathBuf::from("/etc/ociunit/bundles")),
        Manager::User => Ok(lifecycle::config_home("--bundles")?.join("ociunit/bundles")),
    }
}

/// The normal output directory systemd gives the generator, for `--dry-run` without one.
pub fn default_output_dir(manager: Manager, uid: u32) -> PathBuf {
    match manager {
        Manager::System => PathBuf::from("/run/systemd/generator"),
        Manager::User => PathBuf::from(format!("/run/user/{uid}/systemd/generator")),
    }
}

/// The manager that runs us, from `$SYSTEMD_SCOPE` (set for generators since systemd 251).
pub fn scope_from_env() -> Option<Manager> {
    match std::env::var("SYSTEMD_SCOPE").ok()?.as_str() {
        "system" => Some(Manager::System),
        "user" => Some(Manager::User),
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub struct GenerateRequest {
    pub manager: Manager,
    /// `None`: [`target::local_target`], which runs `systemctl --version`.
    pub systemd: Option<u32>,
    pub manager_uid: u32,
    pub bundles: PathBuf,
    /// The normal output directory (systemd's first argument).
    pub output: PathBuf,
    /// Print what would be written instead of writing it.
    pub dry_run: bool,
    pub launcher: PathBuf,
    pub runtime: Choice,
    pub runtime_version: Option<String>,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Generated {
    /// Units written for bundles that compiled.
    pub units: usize,
    /// Bundles that did not (each has a failing unit, unless its name makes none).
    pub failed: usize,
    /// With `dry_run`: every unit it would write, in the bundles' order.
    pub previews: Vec<Preview>,
}

/// A line of the generator's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A bundle that gets no unit or a failing one, or an entry that declares none.
    Error(String),
    /// A bundle field dropped.
    Warning(String),
}

impl Message {
    pub fn into_text(self) -> String {
        match self {
            Message::Error(text) | Message::Warning(text) => text,
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Error(text) => f.write_str(text),
            Message::Warning(text) => write!(f, "warning: {text}"),
        }
    }
}

/// The files `--dry-run` would write for one bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub bundle: PathBuf,
    pub unit: String,
    pub path: PathBuf,
    /// `false`: the bundle does not compile, and this is the unit whose start fails with the
    /// compiler's message.
    pub compiles: bool,
    /// Container mode: the runtime's config.
    pub runtime_config: Option<RuntimeConfig>,
    /// The `.wants/` links to `../UNIT`.
    pub links: Vec<PathBuf>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeConfig {
    pub path: PathBuf,
    pub bytes: usize,
}

impl Preview {
    /// The preview as `--dry-run` prints it: each file after a `---` line naming it.
    pub fn text(&self) -> String {
        let mut text = String::new();
        if let Some(config) = &self.runtime_config {
            let (path, bytes) = (config.path.display(), config.bytes);
            let _ = writeln!(text, "--- {path} ({bytes} bytes)");
        }
        let _ = write!(text, "--- {}\n{}", self.path.display(), self.text);
        for link in &self.links {
            let _ = writeln!(text, "--- {} -> ../{}", link.display(), self.unit);
        }
        text
    }
}

/// One file set for one bundle: its unit, the container's config, the `.wants/` links.
struct Files<'a> {
    bundle: &'a Path,
    compiles: bool,
    unit: String,
    text: String,
    /// The container and its config's text.
    container: Option<(&'a Container, String)>,
    wanted_by: Vec<String>,
}

/// Writes (or, with `dry_run`, previews) a unit for every declared bundle; `log` gets one line
/// per error and warning, in the bundles' order. Fails only when the systemd version is not
/// one to compile for, or the output or the bundle directory cannot be made or read; then it
/// writes and logs nothing.
pub fn generate(
    request: &GenerateRequest,
    log: &mut dyn FnMut(&Message),
) -> Result<Generated, Error> {
    let host = Host {
        request,
        ready: OnceLock::new(),
        runtime: OnceLock::new(),
    };
    let mut listing = Vec::new();
    let (ready, outcomes) = std::thread::scope(|scope| {
        // `systemctl --version` takes as long as a few hundred bundles do: it runs beside
        // them, which wait for it only before they write.
        if request.systemd.is_none() {
            scope.spawn(|| host.ready());
        }
        let outcomes = declared(&request.bundles, &mut |message| {
            listing.push(message.clone());
        })
        .map(|found| build_all(&host, &entries(found)));
        (host.ready(), outcomes)
    });
    ready?;
    let outcomes = outcomes?;
    listing.iter().for_each(&mut *log);
    let mut generated = Generated::default();
    for outcome in outcomes {
        outcome.messages.iter().for_each(&mut *log);
        if outcome.built {
            generated.units += 1;
        } else {
            generated.failed += 1;
        }
        generated.previews.extend(outcome.preview);
    }
    Ok(generated)
}

/// The declared bundles as entries: a bundle whose name makes no unit name, or the unit name of
/// a bundle before it, is skipped.
fn entries(found: Vec<(String, PathBuf)>) -> Vec<Entry> {
    let mut made: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, path) in found {
        let skipped = |why: String| {
            Entry::Skipped(Message::Error(format!(
                "{}: skipped: {why}",
                path.display()
            )))
        };
        entries.push(match compile::unit_name_of(&name, "service") {
            Err(err) => skipped(err.to_string()),
            Ok(unit) => {
                if let Some(first) = made.get(&unit) {
                    skipped(format!(
                        "its unit {unit} is already made from {}",
                        first.display()
                    ))
                } else {
                    made.insert(unit.clone(), path.clone());
                    Entry::Bundle { name, path, unit }
                }
            }
        });
    }
    entries
}

/// What every bundle of a run needs from the host, found once, by the first that needs it
/// while the others wait.
struct Host<'a> {
    request: &'a GenerateRequest,
    ready: OnceLock<Result<u32, Error>>,
    runtime: OnceLock<Result<Option<Runtime>, Error>>,
}

impl Host<'_> {
    /// The systemd version to compile for, once the output directory is there: the first
    /// thing a run does that counts, before it writes anything.
    fn ready(&self) -> Result<u32, Error> {
        let request = self.request;
        self.ready
            .get_or_init(|| {
                let systemd = request.systemd.map_or_else(target::local_target, Ok)?;
                if !request.dry_run {
                    fs::create_dir_all(&request.output)
                        .map_err(|err| Error::io("cannot create", &request.output, err))?;
                }
                Ok(systemd)
            })
            .clone()
    }

    /// The runtime, the same for every bundle: finding it costs a `PATH` search and a process
    /// (`--version`).
    fn runtime(&self) -> Result<Option<Runtime>, Error> {
        let request = self.request;
        self.runtime
            .get_or_init(|| runtime::locate(&request.runtime, request.runtime_version.as_deref()))
            .clone()
    }
}

/// A declared bundle: one to build, or one that gets no unit, and why.
enum Entry {
    Skipped(Message),
    Bundle {
        name: String,
        path: PathBuf,
        unit: String,
    },
}

/// What building one entry came to.
#[derive(Default)]
struct Outcome {
    messages: Vec<Message>,
    /// Its unit is the compiled one (not skipped, nor the failing stand-in).
    built: bool,
    preview: Option<Preview>,
}

/// Builds the entries on every core, as systemd waits for its generators at every
/// daemon-reload; the outcomes come back in the entries' order, so the log and the previews
/// read as if they were made one by one.
fn build_all(host: &Host, entries: &[Entry]) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, entries.len().max(1));
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(entry) = entries.get(index) else {
                return done;
            };
            done.push((index, build(host, entry)));
        }
    };
    let mut outcomes: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut outcomes = work();
        for helper in helpers {
            let done = helper.join();
            outcomes.extend(done.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        outcomes
    });
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

fn build(host: &Host, entry: &Entry) -> Outcome {
    let request = host.request;
    let (name, path, unit) = match entry {
        Entry::Skipped(message) => {
            return Outcome {
                messages: vec![message.clone()],
                ..Outcome::default()
            };
        }
        Entry::Bundle { name, path, unit } => (name, path, unit),
    };
    let loaded = load(host, path);
    let Ok(systemd) = host.ready() else {
        // The run fails, and says why (see `generate`).
        return Outcome::default();
    };
    let mut outcome = Outcome::default();
    let compiled =
        loaded.and_then(|(bundle, mode)| compile_one(request, name, systemd, &bundle, mode));
    let plan = match compiled {
        Ok((plan, warnings)) => {
            outcome
                .messages
                .extend(warnings.into_iter().map(Message::Warning));
            plan
        }
        Err(err) => {
            outcome.messages.extend(
                err.to_string()
                    .lines()
                    .map(|line| Message::Error(line.to_owned())),
            );
            if unit.len() > 255 {
                outcome.messages.push(Message::Error(format!(
                    "{}: no unit: {unit:?} is too long",
                    path.display()
                )));
                return outcome;
            }
            let files = Files {
                bundle: path,
                compiles: false,
                text: failed_unit(path, &err),
                unit: unit.clone(),
                container: None,
                wanted_by: wanted_by(path, request.manager).unwrap_or_default(),
            };
            match emit(request, &files) {
                Ok(preview) => outcome.preview = preview,
                Err(err) => outcome.messages.push(Message::Error(err.to_string())),
            }
            return outcome;
        }
    };
    let result = unit::render_with_config(&plan, &request.launcher)
        .and_then(|(text, config)| {
            Ok(Files {
                bundle: path,
                compiles: true,
                unit: plan.unit.clone(),
                text,
                container: plan.container.as_ref().zip(config),
                wanted_by: wanted_by(path, request.manager)?,
            })
        })
        .and_then(|files| emit(request, &files));
    match result {
        Ok(preview) => {
            outcome.built = true;
            outcome.preview = preview;
        }
        Err(err) => outcome.messages.push(Message::Error(err.to_string())),
    }
    outcome
}

/// The declared bundles, by name: every entry of `dir` but hidden ones and regular files (said
/// in the log); a missing directory declares none.
fn declared(dir: &Path, log: &mut dyn FnMut(&Message)) -> Result<Vec<(String, PathBuf)>, Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::io("cannot read", dir, err)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| Error::io("cannot read", dir, err))?;
        let path = entry.path();
        let Ok(name) = entry.file_name().into_string() else {
            log(&Message::Error(format!(
                "{}: skipped: the name is not UTF-8",
                path.display()
            )));
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // Not followed: a symlink declares the bundle it points to (or a dangling one, which
        // gets its failing unit).
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            log(&Message::Error(format!(
                "{}: skipped: a bundle is a directory, or a symlink to one",
                path.display()
            )));
            continue;
        }
        found.push((name, path));
    }
    found.sort();
    Ok(found)
}

/// The bundle and how it runs: what is read before the systemd version is known.
fn load(host: &Host, path: &Path) -> Result<(Bundle, Mode), Error> {
    let bundle = Bundle::load(path)?;
    let mode = runtime::resolve_with(&bundle, &host.request.runtime, || host.runtime())?;
    Ok((bundle, mode))
}

fn compile_one(
    request: &GenerateRequest,
    name: &str,
    systemd: u32,
    bundle: &Bundle,
    mode: Mode,
) -> Result<(crate::plan::Plan, Vec<String>), Error> {
    let compile_request = Request {
        name: Some(name.to_owned()),
        ..Request::new(Target {
            manager: request.manager,
            systemd,
        })
    };
    let context = Context {
        manager_uid: request.manager_uid,
        home: ConfigHome::Persistent(Some(request.output.join(CONFIG_SUBDIR))),
        unit: None,
        terminal: false,
        mode: Some(mode),
    };
    // The warnings go to the generator's log.
    compile::with_warnings(bundle, &compile_request, &context)
}

/// The targets the bundle's [`ENABLE_FILE`] names; none without the file.
fn wanted_by(bundle: &Path, manager: Manager) -> Result<Vec<String>, Error> {
    let path = bundle.join(ENABLE_FILE);
    let bytes = match regular_file::read(&path, Links::Follow) {
        Ok(bytes) => bytes,
        Err(NotRead::Io(err))
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(why) => {
            return Err(Error::Conflict {
                path,
                why: why.to_string(),
            });
        }
    };
    let invalid = |message: String| {
        Error::Input(vec![InputError {
            file: path.clone(),
            location: Location::File,
            message,
        }])
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
    let mut targets: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !is_unit_name(line) {
            return Err(invalid(format!(
                "{}: not a unit name (one target per line, such as {})",
                crate::error::shown(line),
                manager.install_target()
            )));
        }
        if !targets.iter().any(|t| t == line) {
            targets.push(line.to_owned());
        }
    }
    if targets.is_empty() {
        targets.push(manager.install_target().to_owned());
    }
    Ok(targets)
}

/// A name a `.wants/` directory can carry: unit-name characters, a type suffix, at most 255.
fn is_unit_name(name: &str) -> bool {
    let valid = |c: char| c.is_ascii_alphanumeric() || ":_.-@\\".contains(c);
    name.len() <= 255
        && name.chars().all(valid)
        && !name.starts_with(['.', '-'])
        && name
            .rsplit_once('.')
            .is_some_and(|(stem, suffix)| !stem.is_empty() && !suffix.is_empty())
}

/// The unit of a bundle that does not compile: its start fails, printing the compiler's
/// message into the journal (and so into `systemctl status`); the description says so too.
/// Every line of the message is one argument of `printf`, never shell text.
fn failed_unit(bundle: &Path, err: &Error) -> String {
    let lines: Vec<String> = err.to_string().lines().map(escape::printable).collect();
    let first = lines.first().map_or("an error", String::as_str);
    let more = match lines.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    let description = format!("ociunit: the bundle does not compile: {first}{more}");
    let mut argv = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        format!("printf '%s\\n' \"$@\" >&2; exit {}", err.exit_code()),
        "sh".to_owned(),
        format!(
            "ociunit: the bundle {} does not compile; fix it and run daemon-reload:",
            escape::printable(&bundle.to_string_lossy())
        ),
    ];
    argv.extend(lines);
    format!(
        "# Generated by ociunit {} (ociunit generate) for a bundle that does not compile: starting\n\
         # it fails with the compiler's message. Fix the bundle, then run daemon-reload.\n\
         [Unit]\n\
         Description={}\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         SyslogIdentifier=ociunit\n\
         ExecStart={}\n",
        env!("CARGO_PKG_VERSION"),
        escape::description(&description),
        escape::exec_line(&argv)
    )
}

/// Writes the files (the container's config first, so the unit never names a missing one), or
/// under `--dry-run` says what it would write.
fn emit(request: &GenerateRequest, files: &Files) -> Result<Option<Preview>, Error> {
    let path = request.output.join(&files.unit);
    let link_target = format!("../{}", files.unit);
    let links: Vec<PathBuf> = files
        .wanted_by
        .iter()
        .map(|target| request.output.join(format!("{target}.wants")))
        .collect();
    if request.dry_run {
        return Ok(Some(Preview {
            bundle: files.bundle.to_owned(),
            unit: files.unit.clone(),
            path,
            compiles: files.compiles,
            runtime_config: files
                .container
                .as_ref()
                .map(|(container, config)| RuntimeConfig {
                    path: container.config_dir.join("config.json"),
                    bytes: config.len(),
                }),
            links: links.iter().map(|dir| dir.join(&files.unit)).collect(),
            text: files.text.clone(),
        }));
    }
    if let Some((container, config)) = &files.container {
        let dir = &container.config_dir;
        fs::create_dir_all(dir).map_err(|err| Error::io("cannot create", dir, err))?;
        output::write_new(&dir.join("config.json"), config.as_bytes())?;
    }
    output::write_new(&path, files.text.as_bytes())?;
    for dir in &links {
        let link = dir.join(&files.unit);
        // The bundles that want a target all link into one directory, there after the first:
        // the link is tried first, and only when that fails is the directory made (or why it
        // cannot be said), then the link tried again.
        if std::os::unix::fs::symlink(&link_target, &link).is_ok() {
            continue;
        }
        fs::create_dir_all(dir).map_err(|err| Error::io("cannot create", dir, err))?;
        match std::os::unix::fs::symlink(&link_target, &link) {
            Ok(()) => {}
            Err(err)
                if err.kind() == std::io::ErrorKind::AlreadyExists
                    && fs::read_link(&link).is_ok_and(|t| t == Path::new(&link_target)) => {}
            Err(err) => return Err(Error::io("cannot link", &link, err)),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enable_names_units() {
        for good in ["default.target", "multi-user.target", "getty@tty1.service"] {
            assert!(is_unit_name(good), "{good}");
        }
        for bad in [
            "",
            "default",
            ".target",
            "-x.target",
            "a/b.target",
            "x.",
            "a b.target",
        ] {
            assert!(!is_unit_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_enable_file_names_targets_or_the_default() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            wanted_by(dir.path(), Manager::User).unwrap(),
            Vec::<String>::new()
        );
        let enable = dir.path().join(ENABLE_FILE);
        fs::write(&enable, "# on login\n").unwrap();
        assert_eq!(
            wanted_by(dir.path(), Manager::User).unwrap(),
            ["default.target"]
        );
        assert_eq!(
            wanted_by(dir.path(), Manager::System).unwrap(),
            ["multi-user.target"]
        );
        fs::write(&enable, "a.target\n\n  b.target \na.target\n").unwrap();
        assert_eq!(
            wanted_by(dir.path(), Manager::User).unwrap(),
            ["a.target", "b.target"]
        );
        fs::write(&enable, "../../etc/passwd\n").unwrap();
        let err = wanted_by(dir.path(), Manager::User).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("not a unit name"), "{err}");
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert_eq!(
            wanted_by(&file, Manager::User).unwrap(),
            Vec::<String>::new()
        );
    }

    /// The message reaches the journal as printf's arguments: nothing in it is unit syntax, a
    /// specifier, a variable or shell text.
    #[test]
    fn a_failed_unit_quotes_the_message() {
        let err = Error::Usage("$(reboot) %n \"x\"\nsecond\\".into());
        let text = failed_unit(Path::new("/b/we;b"), &err);
        assert!(
            text.contains(
                "Description=ociunit: the bundle does not compile: $(reboot) %%n \"x\" (and 1 more)"
            ),
            "{text}"
        );
        let exec = text.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
        assert!(exec.contains(r#""$$(reboot) %%n \"x\"""#), "{exec}");
        assert!(exec.contains(r#""second\\""#), "{exec}");
        assert!(
            exec.contains(r#""printf '%%s\\n' \"$$@\" >&2; exit 2""#),
            "{exec}"
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("ExecStart")).count(),
            1
        );
    }
}
