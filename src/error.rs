//! Errors and exit codes.
//!
//! Invalid input always names the file and the JSON path (or line and column for JSON that does
//! not parse), and exits 2, so scripts can tell "your bundle is wrong" (2) from "the host or the
//! tool failed" (1).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::target::Manager;

/// Exit status for invalid input: a bad bundle, a bad option value.
pub const EXIT_INVALID_INPUT: i32 = 2;
/// Exit status for everything else that went wrong.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status for a unit that does not exist, as `systemctl status` exits for one.
pub const EXIT_NOT_FOUND: i32 = 4;

/// The most characters of a bundle value a message quotes.
const SHOWN_MAX: usize = 64;

/// A string from the bundle as a message quotes it: escaped like a Rust string literal, and cut
/// after `SHOWN_MAX` characters with its length in bytes, so that a 100 kB value does not
/// flood the terminal (or the journal) and the message still says which value it is.
pub fn shown(value: &str) -> String {
    match value.char_indices().nth(SHOWN_MAX) {
        None => format!("{value:?}"),
        Some((end, _)) => format!("{:?}… ({} bytes)", &value[..end], value.len()),
    }
}

/// Where in the input a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A JSON path such as `linux.resources.memory.limit`.
    Path(String),
    /// A line and column, for text that is not JSON at all.
    LineColumn(usize, usize),
    /// The file as a whole (missing, unreadable).
    File,
}

/// One problem with the bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: PathBuf,
    pub location: Location,
    pub message: String,
}

impl InputError {
    pub fn at(file: &Path, path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_owned(),
            location: Location::Path(path.into()),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.location {
            Location::Path(path) if path.is_empty() => write!(f, "{file}: {}", self.message),
            Location::Path(path) => write!(f, "{file}: {path}: {}", self.message),
            Location::LineColumn(line, column) => {
                write!(f, "{file}:{line}:{column}: {}", self.message)
            }
            Location::File => write!(f, "{file}: {}", self.message),
        }
    }
}

/// Everything that can make a command fail: one variant per kind of failure, each with the facts
/// its message needs, so that callers (and `--json` reports) can tell them apart. The message
/// text is made here only; the exit status follows from the kind.
#[derive(Clone, Debug)]
pub enum Error {
    /// The bundle is invalid; every problem found is listed.
    Input(Vec<InputError>),
    /// A command-line value is invalid.
    Usage(String),
    /// The manager refused a property and `--strict` forbids the launcher's fallback.
    Refused { unit: String, property: String },
    /// Neither the XDG variable nor `$HOME` is set: the command needs the option instead.
    Environment {
        variable: &'static str,
        option: &'static str,
    },
    /// A file or directory could not be read, written, created, locked or removed.
    Io {
        op: &'static str,
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// A system call with no file to name failed (a pipe, a signal handler).
    Sys {
        op: &'static str,
        source: Arc<std::io::Error>,
    },
    /// A file ociunit will not read, replace or remove as it is: someone else's unit, one
    /// edited by hand, another bundle's, a symlink, a directory held by another ociunit.
    Conflict { path: PathBuf, why: String },
    /// No such unit (status) or unit file (uninstall).
    NotFound { unit: String, manager: Manager },
    /// `apply` of a bundle whose unit is neither installed nor a transient unit that runs.
    NotInstalled { unit: String, path: PathBuf },
    /// `apply` of a transient unit that is no longer running.
    NotRunning { unit: String, state: String },
    /// `apply` of a transient unit that `ociunit run` did not start.
    NotOurs { unit: String },
    /// A program ociunit runs (the OCI runtime) is missing or failed.
    Program { program: String, why: String },
    /// The manager's bus cannot be reached.
    Unreachable { manager: Manager, cause: String },
    /// The manager runs a systemd ociunit does not support.
    Unsupported { manager: Manager, why: String },
    /// A call to the manager failed: its D-Bus error name (empty when the connection failed)
    /// and message.
    Call {
        what: String,
        name: String,
        message: String,
    },
    /// A start, stop or restart job ended other than `done`.
    Job {
        unit: String,
        job: &'static str,
        result: String,
        manager: Manager,
    },
    /// The unit text could not be made from a plan that passed every check: a bug in ociunit.
    Render { what: String, why: String },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_)
            | Error::Usage(_)
            | Error::Refused { .. }
            | Error::Environment { .. } => EXIT_INVALID_INPUT,
            Error::NotFound { .. } | Error::NotInstalled { .. } => EXIT_NOT_FOUND,
            Error::Io { .. }
            | Error::Sys { .. }
            | Error::Conflict { .. }
            | Error::NotRunning { .. }
            | Error::NotOurs { .. }
            | Error::Program { .. }
            | Error::Unreachable { .. }
            | Error::Unsupported { .. }
            | Error::Call { .. }
            | Error::Job { .. }
            | Error::Render { .. } => EXIT_FAILURE,
        }
    }

    /// A job that ended "failed" (rather than canceled, timed out, or lost with the connection).
    pub fn is_failed_job(&self) -> bool {
        matches!(self, Error::Job { result, .. } if result == "failed")
    }

    /// The kind's name in `--json` error reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Input(_) => "input",
            Error::Usage(_) => "usage",
            Error::Refused { .. } => "refused",
            Error::Environment { .. } => "environment",
            Error::Io { .. } => "io",
            Error::Sys { .. } => "sys",
            Error::Conflict { .. } => "conflict",
            Error::NotFound { .. } | Error::NotInstalled { .. } => "not-found",
            Error::NotRunning { .. } => "not-running",
            Error::NotOurs { .. } => "not-ours",
            Error::Program { .. } => "program",
            Error::Unreachable { .. } => "unreachable",
            Error::Unsupported { .. } => "unsupported",
            Error::Call { .. } => "call",
            Error::Job { .. } => "job",
            Error::Render { .. } => "render",
        }
    }

    pub fn io(op: &'static str, path: &Path, err: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.to_owned(),
            source: Arc::new(err),
        }
    }

    pub fn sys(op: &'static str, err: impl Into<std::io::Error>) -> Error {
        Error::Sys {
            op,
            source: Arc::new(err.into()),
        }
    }
}

impl From<InputError> for Error {
    fn from(err: InputError) -> Error {
        Error::Input(vec![err])
    }
}

/// How a message names the manager.
fn manager_name(manager: Manager) -> &'static str {
    match manager {
        Manager::User => "user",
        Manager::System => "system",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(errors) => {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                f.write_str(&lines.join("\n"))
            }
            Error::Usage(message) => f.write_str(message),
            Error::Refused { unit, property } => {
                write!(f, "{unit}: systemd refused {property} (--strict)")
            }
            Error::Environment { variable, option } => {
                write!(f, "neither ${variable} nor $HOME is set; give {option}")
            }
            Error::Io { op, path, source } => write!(f, "{op} {}: {source}", path.display()),
            Error::Sys { op, source } => write!(f, "cannot {op}: {source}"),
            Error::Conflict { path, why } => write!(f, "{}: {why}", path.display()),
            Error::NotFound { unit, manager } => write!(
                f,
                "unit {unit} could not be found (the {} manager has no such unit)",
                manager_name(*manager)
            ),
            Error::NotInstalled { unit, path } => write!(
                f,
                "{unit}: not installed ({} does not exist); `ociunit install` it first, or name \
                 a transient service that `ociunit run --service` started (--name)",
                path.display()
            ),
            Error::NotRunning { unit, state } => write!(
                f,
                "{unit}: a transient unit that is not running ({state}) has nothing to change; \
                 `ociunit run --service` the bundle again"
            ),
            Error::NotOurs { unit } => write!(
                f,
                "{unit}: a transient unit that `ociunit run --service` did not start (its \
                 ExecStart= is not ociunit-launch): apply changes only what it started"
            ),
            Error::Program { program, why } => write!(f, "{program}: {why}"),
            Error::Unreachable {
                manager: Manager::User,
                cause,
            } => write!(
                f,
                "cannot reach your user manager's bus ({cause}): install dbus-user-session, and \
                 for a session without a login enable lingering (loginctl enable-linger $USER)"
            ),
            Error::Unreachable {
                manager: Manager::System,
                cause,
            } => write!(
                f,
                "cannot reach the system bus ({cause}): is systemd the init system and dbus running?"
            ),
            Error::Unsupported { manager, why } => {
                write!(f, "the {} manager runs {why}", manager_name(*manager))
            }
            Error::Call {
                what,
                name,
                message,
            } => {
                let hint = match name.as_str() {
                    "org.freedesktop.DBus.Error.AccessDenied"
                    | "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" => {
                        ": permission denied — use --user for your own manager, or run as root \
                         for --system"
                    }
                    "org.freedesktop.DBus.Error.PropertyReadOnly" => {
                        ": this systemd does not know that property"
                    }
                    _ => "",
                };
                match name.as_str() {
                    "" => write!(f, "{what}: {message}"),
                    _ => write!(f, "{what}: {name}: {message}{hint}"),
                }
            }
            Error::Job {
                unit,
                job,
                result,
                manager,
            } => {
                let user = match manager {
                    Manager::User => "--user ",
                    Manager::System => "",
                };
                write!(
                    f,
                    "{unit}: the {job} job ended with \"{result}\" (see journalctl {user}--unit {unit})"
                )
            }
            Error::Render { what, why } => write!(f, "{what}: {why}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn long_values_are_cut() {
        assert_eq!(shown("a\"b"), r#""a\"b""#);
        let long = "é".repeat(100_000);
        let text = shown(&long);
        assert!(
            text.starts_with(&format!("\"{}\"…", "é".repeat(64))),
            "{text}"
        );
        assert!(text.ends_with("(200000 bytes)"), "{text}");
        assert_eq!(shown(&"x".repeat(64)), format!("\"{}\"", "x".repeat(64)));
    }
}
