//! Errors and exit codes.
//!
//! Invalid input always names the file and the JSON path (or line and column for JSON that does
//! not parse), and exits 2, so scripts can tell "your bundle is wrong" (2) from "the host or the
//! tool failed" (1).

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit status for invalid input: a bad bundle, a bad option value.
pub const EXIT_INVALID_INPUT: i32 = 2;
/// Exit status for everything else that went wrong.
pub const EXIT_FAILURE: i32 = 1;

/// The most characters of a bundle value a message quotes.
const SHOWN_MAX: usize = 64;

/// A string from the bundle as a message quotes it: escaped like a Rust string literal, and cut
/// after [`SHOWN_MAX`] characters with its length in bytes, so that a 100 kB value does not
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

/// Everything that can make a command fail.
#[derive(Clone, Debug)]
pub enum Error {
    /// The bundle is invalid; every problem found is listed.
    Input(Vec<InputError>),
    /// A command-line value is invalid.
    Usage(String),
    /// The host failed us: a write, a rename, a command.
    Host(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) => EXIT_INVALID_INPUT,
            Error::Host(_) => EXIT_FAILURE,
        }
    }

    pub fn io(what: impl fmt::Display, path: &Path, err: &std::io::Error) -> Error {
        Error::Host(format!("{what} {}: {err}", path.display()))
    }
}

impl From<InputError> for Error {
    fn from(err: InputError) -> Error {
        Error::Input(vec![err])
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(errors) => {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                f.write_str(&lines.join("\n"))
            }
            Error::Usage(message) | Error::Host(message) => f.write_str(message),
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
