//! `ociunit compile` and `ociunit explain`: a bundle's unit, and where each field went.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use ociunit::bundle::Bundle;
use ociunit::compile::{self, Context};
use ociunit::error::Error;
use ociunit::output::{self, Replaced};
use ociunit::render::explain;
use ociunit::shell::Shell;

use super::args::{CompileArgs, TargetArgs};
use super::{print, print_json, warn};

#[derive(Args)]
#[allow(
    clippy::struct_field_names,
    reason = "fields mirror the command line's flags"
)]
pub(super) struct Compile {
    #[command(flatten)]
    compile: CompileArgs,
    /// Write the unit to PATH atomically instead of printing it (`-` is stdout). PATH must
    /// be a regular file or not exist; a symlink or device is refused.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// With -o: replace a unit ociunit did not generate, one edited since, or one generated
    /// from another bundle, keeping a backup.
    #[arg(long, requires = "output")]
    force: bool,
    /// Print where the unit went as JSON (format `ociunit-compile/1`); without -o the unit
    /// is in it.
    #[arg(long)]
    pub(super) json: bool,
}

/// The `--json` document's format; a change to its shape changes the string.
const COMPILE_FORMAT: &str = "ociunit-compile/1";

/// Where `compile` put what it made.
#[derive(Serialize)]
struct CompileReport {
    format: &'static str,
    unit: String,
    /// The file -o named; `None` for stdout, and then the unit is `text`.
    path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// Container mode: the runtime's config the unit names, written.
    runtime_config: Option<PathBuf>,
    /// Where the replaced file was kept (`--force`).
    backup: Option<PathBuf>,
    warnings: Vec<String>,
}

impl Compile {
    pub(super) fn run(self) -> Result<u8, Error> {
        let (plan, text, warnings) = self.compile.unit_text()?;
        // The unit names the runtime's config (RuntimeConfig=), so it must exist first.
        let runtime_config = match &plan.container {
            Some(container) => Some(output::write_runtime_config(container)?),
            None => None,
        };
        let path = self.output.filter(|path| path.as_os_str() != "-");
        let backup = match &path {
            Some(path) => {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                let lock = output::lock_dir(dir.unwrap_or(Path::new(".")))?;
                match output::write_unit(&lock, path, &text, self.force)? {
                    Replaced::BackedUp(backup) => Some(backup),
                    Replaced::Nothing | Replaced::Generated => None,
                }
            }
            None => None,
        };
        warn(&warnings);
        if let Some(backup) = &backup {
            Shell::stderr(false).note(format!("kept the previous file as {}", backup.display()));
        }
        if self.json {
            print_json(&CompileReport {
                format: COMPILE_FORMAT,
                unit: plan.unit,
                text: path.is_none().then_some(text),
                path,
                runtime_config,
                backup,
                warnings,
            })?;
        } else if path.is_none() {
            print(&text)?;
        }
        Ok(0)
    }
}

#[derive(Args)]
pub(super) struct Explain {
    #[command(flatten)]
    target: TargetArgs,
    /// Print the stable JSON form.
    #[arg(long)]
    pub(super) json: bool,
}

impl Explain {
    pub(super) fn run(self) -> Result<u8, Error> {
        let bundle = Bundle::load(&self.target.bundle)?;
        let request = self.target.request(false)?;
        let plan = compile::plan(&bundle, &request, &Context::installed(&request))?;
        print(&if self.json {
            explain::json(&plan)
        } else {
            explain::text(&plan)?
        })?;
        Ok(if plan.errors().is_empty() { 0 } else { 2 })
    }
}
