//! The persistent units' lifecycle: `install`, `diff`, `list`, `status`, `uninstall`.

use clap::Args;

use ociunit::compile;
use ociunit::error::Error;
use ociunit::lifecycle::{self, diff, install, list, status, uninstall};
use ociunit::output;

use super::args::{CompileArgs, ManagerArgs, UnitDirArg};
use super::print;

#[derive(Args)]
pub(super) struct Install {
    #[command(flatten)]
    compile: CompileArgs,
    #[command(flatten)]
    dir: UnitDirArg,
    /// Enable the unit (EnableUnitFiles) so it starts at boot or login.
    #[arg(long)]
    enable: bool,
    /// Start it now (restart it if it changed) and report the job's result.
    #[arg(long)]
    now: bool,
    /// Replace a unit ociunit did not generate, one edited since, or one generated from
    /// another bundle, keeping a backup.
    #[arg(long)]
    force: bool,
    /// Print the files and D-Bus calls instead of making them.
    #[arg(long)]
    dry_run: bool,
}

impl Install {
    pub(super) fn run(self) -> Result<u8, Error> {
        let request = install::InstallRequest {
            bundle: self.compile.target.bundle.clone(),
            request: self.compile.request()?,
            launcher: self.compile.launcher()?,
            unit_dir: self.dir.unit_dir,
            enable: self.enable,
            now: self.now,
            force: self.force,
            dry_run: self.dry_run,
        };
        install::install(&request)?;
        Ok(0)
    }
}

#[derive(Args)]
pub(super) struct Diff {
    #[command(flatten)]
    compile: CompileArgs,
    #[command(flatten)]
    dir: UnitDirArg,
}

impl Diff {
    pub(super) fn run(self) -> Result<u8, Error> {
        let (plan, text) = self.compile.unit_text()?;
        let unit_dir = lifecycle::unit_dir(
            self.compile.target.manager.manager(),
            self.dir.unit_dir.as_deref(),
        )?;
        let path = unit_dir.join(&plan.unit);
        let installed =
            output::read_unit(&path)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let mut diffs: Vec<String> = diff::unified(&path, installed.as_deref(), &text)
            .into_iter()
            .collect();
        // The runtime's config is part of what install writes: its drift is a difference too.
        if let Some(container) = &plan.container {
            let config = container.config_dir.join("config.json");
            let on_disk = match std::fs::read_to_string(&config) {
                Ok(text) => Some(text),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => return Err(Error::io("cannot read", &config, &err)),
            };
            diffs.extend(diff::unified(
                &config,
                on_disk.as_deref(),
                &container.config_text(),
            ));
        }
        match diffs.is_empty() {
            true => Ok(0),
            false => {
                print(&diffs.concat())?;
                Ok(1)
            }
        }
    }
}

#[derive(Args)]
pub(super) struct List {
    #[command(flatten)]
    manager: ManagerArgs,
    #[command(flatten)]
    dir: UnitDirArg,
    #[arg(long)]
    json: bool,
}

impl List {
    pub(super) fn run(self) -> Result<u8, Error> {
        let manager = self.manager.manager();
        let mut listed = list::scan(&lifecycle::unit_dir(manager, self.dir.unit_dir.as_deref())?);
        list::add_states(&mut listed, manager);
        if self.json {
            let text = serde_json::to_string_pretty(&listed).expect("plain data");
            print(&format!("{text}\n"))?;
        } else {
            print(&list::table(&listed))?;
        }
        Ok(0)
    }
}

#[derive(Args)]
pub(super) struct Status {
    #[command(flatten)]
    manager: ManagerArgs,
    /// The unit (NAME or NAME.service).
    unit: String,
}

impl Status {
    pub(super) fn run(self) -> Result<u8, Error> {
        print(&status::status(
            self.manager.manager(),
            &compile::unit_name_of(&self.unit, "service")?,
        )?)?;
        Ok(0)
    }
}

#[derive(Args)]
pub(super) struct Uninstall {
    #[command(flatten)]
    manager: ManagerArgs,
    #[command(flatten)]
    dir: UnitDirArg,
    /// The unit (NAME or NAME.service).
    unit: String,
    /// Do not stop the unit.
    #[arg(long)]
    keep_running: bool,
    /// Remove a unit edited since ociunit generated it, keeping a backup.
    #[arg(long)]
    force: bool,
}

impl Uninstall {
    pub(super) fn run(self) -> Result<u8, Error> {
        uninstall::uninstall(&uninstall::UninstallRequest {
            manager: self.manager.manager(),
            unit: self.unit,
            unit_dir: self.dir.unit_dir,
            keep_running: self.keep_running,
            force: self.force,
        })?;
        Ok(0)
    }
}
