//! `ociunit doctor`: why a limit cannot apply on this host, and the fix.

use std::path::PathBuf;

use clap::Args;

use ociunit::compile::Request;
use ociunit::error::Error;

use super::args::{CompileArgs, ManagerArgs, RuntimeArgs, TargetArgs};
use super::print_report;

#[derive(Args)]
pub(super) struct Doctor {
    /// A bundle whose needs to check, with a trial of its launcher writes.
    bundle: Option<PathBuf>,
    #[command(flatten)]
    manager: ManagerArgs,
    /// Absolute path of ociunit-launch for the trial [default: next to this executable].
    #[arg(long, value_name = "PATH")]
    launcher: Option<PathBuf>,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Print the checks as JSON (format `ociunit-doctor/1`).
    #[arg(long)]
    pub(super) json: bool,
}

impl Doctor {
    pub(super) fn run(self) -> Result<u8, Error> {
        let target = TargetArgs {
            bundle: self.bundle.clone().unwrap_or_default(),
            name: None,
            manager: self.manager,
            systemd_version: None,
            runtime: self.runtime,
        };
        let compile = CompileArgs {
            target,
            launcher: self.launcher,
            strict: false,
            best_effort: false,
        };
        let report = ociunit::doctor::doctor(&ociunit::doctor::DoctorRequest {
            bundle: self.bundle,
            request: Request {
                quiet: true,
                ..compile.request()?
            },
            launcher: compile.launcher()?,
        })?;
        print_report(self.json, &report, |report| report.text())?;
        Ok(if report.ok { 0 } else { 1 })
    }
}
