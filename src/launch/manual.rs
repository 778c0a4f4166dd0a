//! The launcher's man page. `ociunit-launch` parses its arguments by hand ([`super::grammar`]), so
//! there is no clap definition to render: this builds one from [`USAGE`], the text `--help`
//! prints, so that the man page and `--help` cannot disagree.

use clap::{Arg, ArgAction, Command};

use super::grammar::USAGE;

/// The command `clap_mangen` renders as `ociunit-launch(1)`.
pub fn command() -> Command {
    let (synopsis, rest) = USAGE.split_once("\n\n").unwrap_or((USAGE, ""));
    let (options, notes) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let mut command = Command::new("ociunit-launch")
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "finish a unit's cgroup setup inside the cgroup systemd delegated to it, then \
             execute the payload in its place",
        )
        .long_about(
            "ociunit-launch is the ExecStart= of the units `ociunit compile` writes. It writes \
             the limits systemd cannot express into the payload's leaf cgroup below the \
             delegated one, applies the process settings, and execs PROGRAM, which becomes the \
             unit's main process. It obeys its arguments and never reads the bundle.",
        )
        .override_usage(synopsis)
        .after_help(notes.trim_end())
        .disable_help_flag(true)
        .disable_version_flag(true);
    for (head, help) in entries(options) {
        let (option, value) = match head.split_once(' ') {
            Some((option, value)) => (option, Some(value)),
            None => (head, None),
        };
        let name = option.trim_start_matches('-');
        let arg =
            match (name, value) {
                // `--` ends the options: what follows is the payload.
                ("", _) => Arg::new("PROGRAM")
                    .value_name("PROGRAM [ARG]...")
                    .num_args(1..)
                    .last(true)
                    .required(true),
                (name, None) => Arg::new(name).long(name).action(ArgAction::SetTrue),
                (name, Some(value)) => Arg::new(name).long(name).value_name(value).action(
                    if help.contains("repeatable") {
                        ArgAction::Append
                    } else {
                        ArgAction::Set
                    },
                ),
            };
        command = command.arg(arg.help(help));
    }
    command
}

/// USAGE's option list as (`--option VALUE`, help) pairs: an entry starts with two spaces and
/// `--`; the help follows after two or more spaces, on that line or on the indented lines below.
fn entries(options: &'static str) -> Vec<(&'static str, String)> {
    let mut entries: Vec<(&'static str, String)> = Vec::new();
    for line in options.lines() {
        let words = line.trim_start();
        match (line.starts_with("  --"), entries.last_mut()) {
            (true, _) => {
                let (head, help) = words.split_once("  ").unwrap_or((words, ""));
                entries.push((head, help.trim().to_owned()));
            }
            (false, Some((_, help))) => {
                if !help.is_empty() {
                    help.push(' ');
                }
                help.push_str(words);
            }
            (false, None) => {}
        }
    }
    entries
}
