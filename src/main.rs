//! The `ociunit` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use ociunit::compile::{self, Request};
use ociunit::error::Error;
use ociunit::render::{explain, unit};
use ociunit::target::{self, Manager, Target};

#[derive(Parser)]
#[command(
    version,
    about = "Compile OCI runtime bundles into systemd units with cgroup v2 limits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a bundle into a .service unit (stdout, or -o PATH).
    Compile {
        #[command(flatten)]
        target: TargetArgs,
        /// Write the unit to PATH atomically instead of printing it.
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Absolute path of ociunit-launch for ExecStart= [default: next to this executable].
        #[arg(long, value_name = "PATH")]
        launcher: Option<PathBuf>,
        /// Make every field that would be dropped an error.
        #[arg(long)]
        strict: bool,
        /// Let the launcher start the payload even when a cgroup write fails (with a warning).
        #[arg(long)]
        best_effort: bool,
    },
    /// Show where each field of the bundle went.
    Explain {
        #[command(flatten)]
        target: TargetArgs,
        /// Print the stable JSON form.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct TargetArgs {
    /// A bundle directory, or its config.json.
    bundle: PathBuf,
    /// The unit name [default: the bundle directory's name].
    #[arg(long)]
    name: Option<String>,
    /// Compile for the user manager (the default for non-root).
    #[arg(long, conflicts_with = "system")]
    user: bool,
    /// Compile for the system manager (the default for root).
    #[arg(long)]
    system: bool,
    /// The target systemd version [default: the local one, else 252].
    #[arg(long, value_name = "N")]
    systemd_version: Option<u32>,
}

impl TargetArgs {
    fn request(&self, best_effort: bool) -> Request {
        let manager = match (self.user, self.system) {
            (true, _) => Manager::User,
            (_, true) => Manager::System,
            _ => Manager::for_current_user(),
        };
        let systemd = self
            .systemd_version
            .or_else(target::local_systemd_version)
            .unwrap_or(target::FALLBACK_SYSTEMD);
        Request {
            name: self.name.clone(),
            target: Target { manager, systemd },
            best_effort,
            manager_uid: rustix::process::getuid().as_raw(),
        }
    }
}

fn default_launcher() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|err| {
        Error::Host(format!(
            "cannot find this executable to locate ociunit-launch: {err}"
        ))
    })?;
    Ok(exe.with_file_name("ociunit-launch"))
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("ociunit: warning: {warning}");
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Compile {
            target,
            output,
            launcher,
            strict,
            best_effort,
        } => {
            let launcher = match launcher {
                Some(path) if path.is_absolute() => path,
                Some(path) => {
                    return Err(Error::Usage(format!(
                        "--launcher {}: must be an absolute path",
                        path.display()
                    )));
                }
                None => default_launcher()?,
            };
            let (plan, warnings) =
                compile::compile(&target.bundle, &target.request(best_effort), strict)?;
            warn(&warnings);
            let text = unit::render(&plan, &launcher)?;
            match output {
                Some(path) => ociunit::output::write_unit(&path, &text),
                None => print(&text),
            }
        }
        Command::Explain { target, json } => {
            let bundle = ociunit::bundle::Bundle::load(&target.bundle)?;
            let plan = compile::plan(&bundle, &target.request(false))?;
            let text = if json {
                explain::json(&plan)
            } else {
                explain::text(&plan)?
            };
            print(&text)?;
            match plan.errors().is_empty() {
                true => Ok(()),
                false => Err(Error::Input(Vec::new())),
            }
        }
    }
}

fn print(text: &str) -> Result<(), Error> {
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|err| Error::io("cannot write", Path::new("stdout"), &err))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = err.to_string();
            if !message.is_empty() {
                for line in message.lines() {
                    eprintln!("ociunit: {line}");
                }
            }
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
        }
    }
}
