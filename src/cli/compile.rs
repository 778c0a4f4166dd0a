//! `ociunit compile` and `ociunit explain`: a bundle's unit, and where each field went.

use std::path::PathBuf;

use clap::Args;

use ociunit::bundle::Bundle;
use ociunit::compile;
use ociunit::error::Error;
use ociunit::output::{self, Replaced};
use ociunit::render::explain;

use super::args::{CompileArgs, TargetArgs};
use super::print;

#[derive(Args)]
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
}

impl Compile {
    pub(super) fn run(self) -> Result<u8, Error> {
        let (plan, text) = self.compile.unit_text()?;
        // The unit names the runtime's config (RuntimeConfig=), so it must exist first.
        if let Some(container) = &plan.container {
            output::write_runtime_config(container)?;
        }
        match self.output {
            Some(path) if path.as_os_str() != "-" => {
                if let Replaced::BackedUp(backup) = output::write_unit(&path, &text, self.force)? {
                    eprintln!("ociunit: kept the previous file as {}", backup.display());
                }
            }
            _ => print(&text)?,
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
    json: bool,
}

impl Explain {
    pub(super) fn run(self) -> Result<u8, Error> {
        let bundle = Bundle::load(&self.target.bundle)?;
        let plan = compile::plan(&bundle, &self.target.request(false)?)?;
        print(&if self.json {
            explain::json(&plan)
        } else {
            explain::text(&plan)?
        })?;
        Ok(if plan.errors().is_empty() { 0 } else { 2 })
    }
}
