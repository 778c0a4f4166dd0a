//! The `ociunit` command line: the clap definition, and one module per subcommand (or group of
//! them) that turns its arguments into a library request and prints the result.

mod apply;
mod args;
mod compile;
mod docs;
mod doctor;
mod generate;
mod lifecycle;
mod run;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;

use ociunit::error::{Error, Location};
use ociunit::generator;
use ociunit::shell::Shell;

#[derive(Parser)]
#[command(
    version,
    about = "Compile OCI runtime bundles into systemd units with cgroup v2 limits",
    after_long_help = "Exit status: 0 success; 2 invalid input or usage (the message names \
        the file and the JSON path; nothing is written), and a property the manager refused \
        under --strict; 4 no such unit (status, uninstall, apply); 1 anything else. `diff` exits \
        1 when the units differ and 2 on any error, as diff(1) does; `apply` exits 3 when a \
        change needs a restart; `run` exits with the payload's status. With --json a failure \
        also prints an ociunit-error/1 document with the error's kind."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a bundle into a .service unit (stdout, or -o PATH).
    Compile(compile::Compile),
    /// Show where each field of the bundle went.
    Explain(compile::Explain),
    /// Run a bundle now as a transient scope or service, like systemd-run.
    Run(Box<run::Run>),
    /// Compile into the unit directory, reload, and optionally enable and start.
    Install(lifecycle::Install),
    /// Change a running unit's limits in place from its edited bundle: rewrite an installed
    /// unit, apply the limits to the running unit (installed, or started by `run --service`),
    /// and report what still needs a restart (exit 0 all applied live, 3 a restart is needed,
    /// 1 a change failed, 2 invalid input).
    Apply(apply::Apply),
    /// Show what install would change, as a unified diff (exit 0 same, 1 different, 2 error).
    Diff(lifecycle::Diff),
    /// List the units ociunit generated, with drift and state.
    List(lifecycle::List),
    /// Show a unit's state, limits and usage.
    Status(lifecycle::Status),
    /// Check why a limit cannot apply on this host, and print the fix (exit 1 if something
    /// the bundle needs is missing).
    Doctor(doctor::Doctor),
    /// Stop, disable and remove a unit ociunit generated, then reload.
    Uninstall(lifecycle::Uninstall),
    /// Write a unit for every declared bundle, as a systemd generator: invoked by systemd as
    /// ociunit-generator NORMAL_DIR EARLY_DIR LATE_DIR (see systemd.generator(7)).
    Generate(Box<generate::Generate>),
    /// Print the shell completion script for ociunit.
    Completions(docs::Completions),
    /// Write the man pages of ociunit, its subcommands and ociunit-launch into DIR.
    Man(docs::Man),
}

impl Command {
    /// Whether the command was asked for a `--json` document: a failure is then a document too.
    fn json(&self) -> bool {
        match self {
            Command::Compile(command) => command.json,
            Command::Explain(command) => command.json,
            Command::Run(command) => command.json,
            Command::Install(command) => command.json,
            Command::Apply(command) => command.json,
            Command::Diff(command) => command.json,
            Command::List(command) => command.json,
            Command::Status(command) => command.json,
            Command::Doctor(command) => command.json,
            Command::Uninstall(command) => command.json,
            Command::Generate(command) => command.json,
            Command::Completions(_) | Command::Man(_) => false,
        }
    }

    /// Runs the command; `Ok` carries the exit status.
    fn run(self) -> Result<u8, Error> {
        match self {
            Command::Compile(command) => command.run(),
            Command::Explain(command) => command.run(),
            Command::Run(command) => command.run(),
            Command::Install(command) => command.run(),
            Command::Apply(command) => command.run(),
            Command::Diff(command) => command.run(),
            Command::List(command) => command.run(),
            Command::Status(command) => command.run(),
            Command::Doctor(command) => command.run(),
            Command::Uninstall(command) => command.run(),
            Command::Generate(command) => command.run(),
            Command::Completions(command) => command.run(),
            Command::Man(command) => command.run(),
        }
    }
}

/// The document a `--json` command prints on stdout when it fails, beside the message on
/// stderr: a script reads the kind rather than parsing the text.
#[derive(Serialize)]
struct ErrorReport<'a> {
    format: &'static str,
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    kind: &'static str,
    message: String,
    /// The command's exit status, which for `diff` is 2 whatever the kind.
    exit_code: i32,
    /// Invalid input: every problem, with its file and place.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<Problem<'a>>,
}

#[derive(Serialize)]
struct Problem<'a> {
    file: &'a Path,
    /// The JSON path, or `LINE:COLUMN` for text that is not JSON; "" for the file as a whole.
    at: String,
    message: &'a str,
}

fn error_report(err: &Error, exit_code: i32) -> ErrorReport<'_> {
    let problems = match err {
        Error::Input(errors) => errors
            .iter()
            .map(|e| Problem {
                file: &e.file,
                at: match &e.location {
                    Location::Path(path) => path.clone(),
                    Location::LineColumn(line, column) => format!("{line}:{column}"),
                    Location::File => String::new(),
                },
                message: &e.message,
            })
            .collect(),
        _ => Vec::new(),
    };
    ErrorReport {
        format: "ociunit-error/1",
        error: ErrorFields {
            kind: err.kind(),
            message: err.to_string(),
            exit_code,
            problems,
        },
    }
}

fn print(text: &str) -> Result<(), Error> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|err| Error::io("cannot write", Path::new("stdout"), err))
}

/// Prints a `--json` document, a report whose `format` names its schema.
fn print_json(report: &impl Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(report).expect("plain data");
    print(&format!("{text}\n"))
}

/// A command's report: the JSON document with `--json`, else its text.
fn print_report<R: Serialize>(
    json: bool,
    report: &R,
    text: impl FnOnce(&R) -> String,
) -> Result<(), Error> {
    if json {
        print_json(report)
    } else {
        print(&text(report))
    }
}

/// The warnings a command reports itself (`--json` changes only stdout: the document has them
/// too).
fn warn(warnings: &[String]) {
    let shell = Shell::stderr(false);
    for warning in warnings {
        shell.warn(warning);
    }
}

/// A command's failure: the message on stderr and, with `--json`, the error document on stdout.
fn report_failure(err: &Error, json: bool, exit_code: i32) {
    report_error(err);
    if json {
        // Best effort: stdout may be what failed.
        let _ = print_json(&error_report(err, exit_code));
    }
}

/// An error on stderr, one `ociunit:` line per line of it.
fn report_error(err: &Error) {
    let shell = Shell::stderr(false);
    for line in err.to_string().lines() {
        shell.error(line);
    }
}

pub fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // systemd runs a generator with its output directories only: the link's name says which
    // command that is.
    let invoked = args.first().and_then(|arg0| Path::new(arg0).file_name());
    if invoked.is_some_and(|name| name == generator::GENERATOR_NAME) {
        args.insert(1, "generate".into());
    }
    let command = Cli::parse_from(args).command;
    let json = command.json();
    match command.run() {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            let code = err.exit_code();
            report_failure(&err, json, code);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
