//! `ociunit apply`: a running unit's limits changed in place from its edited bundle.

use clap::Args;

use ociunit::compile::Request;
use ociunit::error::Error;
use ociunit::lifecycle::apply;
use ociunit::shell::Shell;
use ociunit::target;

use super::args::{CompileArgs, UnitDirArg};
use super::{print_report, warn};

#[derive(Args)]
pub(super) struct Apply {
    #[command(flatten)]
    compile: CompileArgs,
    #[command(flatten)]
    dir: UnitDirArg,
    /// Compare and report, change nothing (exit 3 if a restart would be needed).
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON (format `ociunit-apply/1`).
    #[arg(long)]
    pub(super) json: bool,
    /// Restart the unit when a change needs it.
    #[arg(long)]
    restart: bool,
    /// Replace a unit ociunit did not generate or one edited since, keeping a backup.
    #[arg(long)]
    force: bool,
}

impl Apply {
    pub(super) fn run(self) -> Result<u8, Error> {
        let manager = self.compile.target.manager.manager();
        let request = apply::ApplyRequest {
            bundle: self.compile.target.bundle.clone(),
            // The systemd version comes from the manager apply talks to, unless given: it asks
            // over the bus rather than spawning `systemctl --version`.
            request: Request {
                strict: self.compile.strict,
                ..self.compile.target.request_for(
                    self.compile.best_effort,
                    self.compile
                        .target
                        .systemd_version
                        .unwrap_or(target::FALLBACK_SYSTEMD),
                )
            },
            systemd: self.compile.target.systemd_version,
            launcher: self.compile.launcher()?,
            unit_dir: self.dir.unit_dir,
            dry_run: self.dry_run,
            restart: self.restart,
            force: self.force,
        };
        let (report, code) = apply::apply(&request, &Shell::stderr(false))?;
        warn(&report.warnings);
        print_report(self.json, &report, |report| apply::text(report, manager))?;
        Ok(code)
    }
}
