//! `ociunit generate`: the systemd generator, and its `--dry-run` preview.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use ociunit::error::Error;
use ociunit::generator::{self, Message, Preview};
use ociunit::target::Manager;

use super::args::{ManagerArgs, RuntimeChoice, launcher, systemd_version};
use super::{print, print_json};

/// The `--json` document's format; a change to its shape changes the string.
const FORMAT: &str = "ociunit-generate/1";

/// What `generate --dry-run` would write, and what is wrong.
#[derive(Serialize)]
struct Report {
    format: &'static str,
    manager: Manager,
    bundles: PathBuf,
    output: PathBuf,
    /// Every unit it would write, a failing one for a bundle that does not compile.
    units: Vec<Preview>,
    /// Bundles that do not compile, or get no unit (the exit status is 2).
    failed: usize,
    /// The log's errors and warnings, as the journal gets them at boot.
    errors: Vec<String>,
    warnings: Vec<String>,
}

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
    /// With --dry-run: print the units and errors as JSON (format `ociunit-generate/1`).
    #[arg(long, requires = "dry_run")]
    pub(super) json: bool,
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
            systemd: self.systemd_version,
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
        let mut messages = Vec::new();
        let mut log = |message: &Message| {
            match &mut kmsg {
                Some(kmsg) => {
                    let _ = writeln!(kmsg, "<3>{}: {message}", generator::GENERATOR_NAME);
                }
                None => eprintln!("ociunit: {message}"),
            }
            messages.push(message.clone());
        };
        let generated = generator::generate(&request, &mut log)?;
        if self.json {
            let (errors, warnings): (Vec<Message>, Vec<Message>) = messages
                .into_iter()
                .partition(|message| matches!(message, Message::Error(_)));
            print_json(&Report {
                format: FORMAT,
                manager,
                bundles: request.bundles,
                output: request.output,
                units: generated.previews,
                failed: generated.failed,
                errors: errors.into_iter().map(Message::into_text).collect(),
                warnings: warnings.into_iter().map(Message::into_text).collect(),
            })?;
        } else {
            let previews: Vec<String> = generated.previews.iter().map(Preview::text).collect();
            print(&previews.concat())?;
        }
        Ok(if generated.failed == 0 { 0 } else { 2 })
    }
}
