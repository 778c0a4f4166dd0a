//! The `ociunit` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use ociunit::compile::{self, Request};
use ociunit::error::Error;
use ociunit::render::dbus::RunOptions;
use ociunit::render::{explain, unit};
use ociunit::run;
use ociunit::target::{self, Manager, Target};
use std::io::IsTerminal;

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
    /// Run a bundle now as a transient scope or service, like systemd-run.
    Run(Box<RunArgs>),
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
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Run in a transient scope around this process; the payload inherits the terminal
    /// [default when stdin is a terminal].
    #[arg(long, conflicts_with = "service")]
    scope: bool,
    /// Run as a transient service whose ExecStart= is the launcher [default otherwise].
    #[arg(long)]
    service: bool,
    /// The transient unit's name [default: the bundle's name with a random suffix].
    #[arg(long, value_name = "NAME")]
    unit: Option<String>,
    /// Put the unit in this slice.
    #[arg(long, value_name = "SLICE")]
    slice: Option<String>,
    /// The unit's description.
    #[arg(long)]
    description: Option<String>,
    /// Override a property, systemd-run style (MemoryMax=512M, CPUQuota=50%, …).
    #[arg(short = 'p', long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// Wait for the service to end, report, and exit with its status.
    #[arg(long, requires = "service")]
    wait: bool,
    /// Connect the service's stdin, stdout and stderr to ours (implies --wait).
    #[arg(short = 'P', long, requires = "service")]
    pipe: bool,
    /// Unload the unit even if it failed (CollectMode=inactive-or-failed).
    #[arg(short = 'G', long)]
    collect: bool,
    /// Do not wait for the start job to finish.
    #[arg(long, conflicts_with_all = ["wait", "pipe", "scope"])]
    no_block: bool,
    /// Print no status or warnings.
    #[arg(short, long)]
    quiet: bool,
    /// Print the unit name and, with --wait, its result as JSON (service mode).
    #[arg(long, requires = "service")]
    json: bool,
    /// Absolute path of ociunit-launch for a service's ExecStart= [default: next to this executable].
    #[arg(long, value_name = "PATH")]
    launcher: Option<PathBuf>,
    /// Make every field that would be dropped an error.
    #[arg(long)]
    strict: bool,
    /// Let the launcher start the payload even when a cgroup write fails (with a warning).
    #[arg(long)]
    best_effort: bool,
    /// Print the StartTransientUnit call instead of making it.
    #[arg(long)]
    dry_run: bool,
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

/// `--launcher`, which must be absolute, or the ociunit-launch beside this executable.
fn launcher_path(path: Option<PathBuf>) -> Result<PathBuf, Error> {
    match path {
        Some(path) if path.is_absolute() => Ok(path),
        Some(path) => Err(Error::Usage(format!(
            "--launcher {}: must be an absolute path",
            path.display()
        ))),
        None => {
            let exe = std::env::current_exe().map_err(|err| {
                Error::Host(format!(
                    "cannot find this executable to locate ociunit-launch: {err}"
                ))
            })?;
            Ok(exe.with_file_name("ociunit-launch"))
        }
    }
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
            let launcher = launcher_path(launcher)?;
            let (plan, warnings) =
                compile::compile(&target.bundle, &target.request(best_effort), strict)?;
            warn(&warnings);
            let text = unit::render(&plan, &launcher)?;
            match output {
                Some(path) => ociunit::output::write_unit(&path, &text),
                None => print(&text),
            }
        }
        Command::Run(args) => {
            let mode = match (args.scope, args.service) {
                (true, _) => run::Mode::Scope,
                (_, true) => run::Mode::Service,
                _ if std::io::stdin().is_terminal() => run::Mode::Scope,
                _ => run::Mode::Service,
            };
            let request = run::RunRequest {
                bundle: args.target.bundle.clone(),
                request: args.target.request(args.best_effort),
                mode,
                unit: args.unit,
                options: RunOptions {
                    description: args.description,
                    slice: args.slice,
                    collect: args.collect,
                    add_ref: false,
                },
                properties: args.properties,
                launcher: launcher_path(args.launcher)?,
                wait: args.wait,
                pipe: args.pipe,
                no_block: args.no_block,
                quiet: args.quiet,
                json: args.json,
                strict: args.strict,
                dry_run: args.dry_run,
            };
            let status = run::run(&request)?;
            std::process::exit(status);
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
