//! Where the library's warnings and notes go, so that no command prints from the library (cargo's
//! `Shell` is the model): the CLI makes one on stderr that honours `--quiet`, doctor's trial one
//! that keeps nothing, tests one that keeps every line.

use std::fmt::Display;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A sink for what a command says besides its output. Cheap to clone and `Send`, for the thread
/// that stops a unit on Ctrl-C.
#[derive(Clone)]
pub struct Shell {
    err: Arc<Mutex<Sink>>,
    quiet: bool,
}

enum Sink {
    Stderr,
    #[cfg(test)]
    Kept(Vec<String>),
    Nowhere,
}

impl Shell {
    /// Lines on stderr; with `quiet` only errors.
    pub fn stderr(quiet: bool) -> Shell {
        Shell::with(Sink::Stderr, quiet)
    }

    /// Keeps every line, for [`Shell::said`].
    #[cfg(test)]
    pub fn kept() -> Shell {
        Shell::with(Sink::Kept(Vec::new()), false)
    }

    /// Says nothing at all: for a caller that reports in its own words (doctor's trial).
    pub fn nowhere() -> Shell {
        Shell::with(Sink::Nowhere, true)
    }

    fn with(sink: Sink, quiet: bool) -> Shell {
        Shell {
            err: Arc::new(Mutex::new(sink)),
            quiet,
        }
    }

    /// `ociunit: warning: …`, unless quiet.
    pub fn warn(&self, message: impl Display) {
        if !self.quiet {
            self.line(&format!("ociunit: warning: {message}"));
        }
    }

    /// `ociunit: …`: something done that the user should know of (a backup kept), unless quiet.
    pub fn note(&self, message: impl Display) {
        if !self.quiet {
            self.line(&format!("ociunit: {message}"));
        }
    }

    /// A line as it is (`Running as unit: …`), unless quiet.
    pub fn status(&self, message: impl Display) {
        if !self.quiet {
            self.line(&message.to_string());
        }
    }

    /// `ociunit: …` even when quiet: a failure the command goes on after.
    pub fn error(&self, message: impl Display) {
        self.line(&format!("ociunit: {message}"));
    }

    /// What a [`Shell::kept`] shell was told, line by line.
    #[cfg(test)]
    pub fn said(&self) -> Vec<String> {
        match &*self.sink() {
            Sink::Kept(lines) => lines.clone(),
            Sink::Stderr | Sink::Nowhere => Vec::new(),
        }
    }

    fn line(&self, line: &str) {
        match &mut *self.sink() {
            Sink::Stderr => {
                // A closed stderr is no reason to fail the command.
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            #[cfg(test)]
            Sink::Kept(lines) => lines.push(line.to_owned()),
            Sink::Nowhere => {}
        }
    }

    fn sink(&self) -> std::sync::MutexGuard<'_, Sink> {
        self.err
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::Shell;

    #[test]
    fn quiet_keeps_errors_only() {
        let shell = Shell::kept();
        shell.warn("w");
        shell.note("n");
        shell.status("s");
        shell.error("e");
        assert_eq!(
            shell.said(),
            ["ociunit: warning: w", "ociunit: n", "s", "ociunit: e"]
        );
        let quiet = Shell {
            quiet: true,
            ..Shell::kept()
        };
        quiet.warn("w");
        quiet.error("e");
        assert_eq!(quiet.said(), ["ociunit: e"]);
    }
}
