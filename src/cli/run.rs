//! `ociunit run`: a bundle run now as a transient scope or service.

use std::io::IsTerminal;

use clap::Args;

use ociunit::compile::Request;
use ociunit::error::Error;
use ociunit::render::dbus::RunOptions;
use ociunit::run::{self, Ran};
use ociunit::shell::Shell;
use ociunit::target;

use super::args::CompileArgs;
use super::print;

#[derive(Args)]
#[allow(
    clippy::struct_field_names,
    reason = "fields mirror the command line's flags"
)]
pub(super) struct Run {
    #[command(flatten)]
    compile: CompileArgs,
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
    #[arg(long)]
    wait: bool,
    /// Connect the service's stdin, stdout and stderr to ours (implies --wait).
    #[arg(short = 'P', long)]
    pipe: bool,
    /// Unload the unit even if it failed (CollectMode=inactive-or-failed).
    #[arg(short = 'G', long)]
    collect: bool,
    /// Do not wait for the start job to finish.
    #[arg(long, conflicts_with_all = ["wait", "pipe", "scope"])]
    no_block: bool,
    /// Print no status lines or warnings.
    #[arg(short, long)]
    quiet: bool,
    /// Print the unit name and, with --wait, its result as JSON (service mode).
    #[arg(long)]
    pub(super) json: bool,
    /// Print the StartTransientUnit call instead of making it.
    #[arg(long)]
    dry_run: bool,
}

impl Run {
    pub(super) fn run(self) -> Result<u8, Error> {
        let shell = Shell::stderr(self.quiet);
        let json = self.json;
        let ran = run::run(&self.request()?, &shell)?;
        let status = match ran {
            Ran::DryRun(listing) => {
                print(&listing)?;
                0
            }
            Ran::Started { unit } => {
                if json {
                    print(&format!("{}\n", serde_json::json!({ "unit": unit })))?;
                } else {
                    shell.status(format!("Running as unit: {unit}"));
                }
                0
            }
            Ran::Finished { unit, outcome } => {
                if json {
                    print(&format!("{}\n", outcome.json(&unit)))?;
                }
                for line in outcome.lines(&unit) {
                    shell.status(line);
                }
                outcome.exit_status()
            }
            Ran::LaunchFailed(err) => {
                shell.error(&err);
                err.exit_code()
            }
        };
        Ok(u8::try_from(status).unwrap_or(1))
    }

    fn request(self) -> Result<run::RunRequest, Error> {
        let mode = match (self.scope, self.service) {
            (true, _) => run::Mode::Scope,
            (_, true) => run::Mode::Service,
            _ if (self.wait || self.pipe || self.json) => run::Mode::Service,
            _ if std::io::stdin().is_terminal() => run::Mode::Scope,
            _ => run::Mode::Service,
        };
        if mode == run::Mode::Scope && (self.wait || self.pipe || self.json) {
            return Err(Error::Usage(
                "--wait, --pipe and --json apply to --service: a scope runs the payload in this process".into(),
            ));
        }
        let request = if self.dry_run {
            self.compile.request()?
        } else {
            Request {
                strict: self.compile.strict,
                ..self
                    .compile
                    .target
                    .request_for(self.compile.best_effort, target::FALLBACK_SYSTEMD)
            }
        };
        let request = Request {
            overrides: self.properties,
            ..request
        };
        Ok(run::RunRequest {
            bundle: self.compile.target.bundle.clone(),
            request,
            mode,
            unit: self.unit,
            options: RunOptions {
                description: self.description,
                slice: self.slice,
                collect: self.collect,
                add_ref: false,
            },
            launcher: self.compile.launcher()?,
            wait: self.wait,
            pipe: self.pipe,
            no_block: self.no_block,
            dry_run: self.dry_run,
        })
    }
}
