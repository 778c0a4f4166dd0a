//! `ociunit generate`: the systemd generator, and its `--dry-run` preview.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use ociunit::error::Error;
use ociunit::generator;
use ociunit::target::Manager;

use super::args::{ManagerArgs, RuntimeChoice, launcher, systemd_target, systemd_version};

#[derive(Args)]
pub(super) struct Generate {
    /// The manager [default: $SYSTEMD_SCOPE, else as for the other commands].
    #[command(flatten)]
    manager: ManagerArgs,
    /// Print every file it would write, and every error (exit 2 if a bundle is invalid).
    #[arg(long)]
    dry_run: bool,
    /// The declared bundles [default: ~/.config/ociunit/bundles or /etc/ociunit/bundles].
    #[arg(long, value_name = "DIR")]
    bundles: Option<PathBuf>,
    /// The target systemd version [default: the local one, else 252].
    #[arg(long, value_name = "N", value_parser = systemd_version)]
    systemd_version: Option<u32>,
    /// Absolute path of ociunit-launch for ExecStart= [default: next to this executable].
    #[arg(long, value_name = "PATH")]
    launcher: Option<PathBuf>,
    #[command(flatten)]
    runtime: RuntimeChoice,
    /// systemd's output directories; only the first is written [default with --dry-run:
    /// /run/systemd/generator or /run/user/UID/systemd/generator].
    #[arg(value_names = ["NORMAL_DIR", "EARLY_DIR", "LATE_DIR"], num_args = 0..=3)]
    dirs: Vec<PathBuf>,
}

impl Generate {
    pub(super) fn run(self) -> Result<u8, Error> {
        let manager = match (self.manager.user, self.manager.system) {
            (false, false) => generator::scope_from_env().unwrap_or_else(Manager::for_current_user),
            _ => self.manager.manager(),
        };
        let uid = rustix::process::getuid().as_raw();
        let output = match (self.dirs.first(), self.dry_run) {
            (Some(dir), _) => dir.clone(),
            (None, true) => generator::default_output_dir(manager, uid),
            (None, false) => {
                return Err(Error::Usage(
                    "give the output directory (NORMAL_DIR), or --dry-run".into(),
                ));
            }
        };
        let request = generator::GenerateRequest {
            manager,
            systemd: systemd_target(self.systemd_version)?,
            manager_uid: uid,
            bundles: match self.bundles {
                Some(dir) => dir,
                None => generator::bundles_dir(manager)?,
            },
            output,
            dry_run: self.dry_run,
            launcher: launcher(self.launcher.as_deref())?,
            runtime: self.runtime.runtime,
            runtime_version: self.runtime.runtime_version,
        };
        // A system generator's stderr is the console, not the journal: the kernel log is.
        let mut kmsg = (manager == Manager::System
            && !self.dry_run
            && generator::scope_from_env() == Some(Manager::System))
        .then(|| {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/kmsg")
                .ok()
        })
        .flatten();
        let mut log = |line: &str| match &mut kmsg {
            Some(kmsg) => {
                let _ = writeln!(kmsg, "<3>{}: {line}", generator::GENERATOR_NAME);
            }
            None => eprintln!("ociunit: {line}"),
        };
        let generated = generator::generate(&request, &mut std::io::stdout(), &mut log)?;
        Ok(if generated.failed == 0 { 0 } else { 2 })
    }
}
