//! `ociunit doctor`: why a limit cannot apply on this host, and the fix.

use std::path::PathBuf;

use clap::Args;

use ociunit::compile::Request;
use ociunit::error::Error;
use ociunit::target::Target;

use super::args::{ManagerArgs, RuntimeArgs, launcher, systemd_target};
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
        let request = Request {
            runtime: self.runtime.choice.runtime,
            runtime_version: self.runtime.choice.runtime_version,
            state_dir: self.runtime.state_dir,
            ..Request::new(Target {
                manager: self.manager.manager(),
                systemd: systemd_target(None)?,
            })
        };
        let report = ociunit::doctor::doctor(&ociunit::doctor::DoctorRequest {
            bundle: self.bundle,
            request,
            launcher: launcher(self.launcher.as_deref())?,
        })?;
        print_report(self.json, &report, ociunit::doctor::Report::text)?;
        Ok(u8::from(!report.ok))
    }
}
