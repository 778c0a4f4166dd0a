//! The persistent units' lifecycle: `install`, `diff`, `list`, `status`, `uninstall`.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use ociunit::compile;
use ociunit::error::Error;
use ociunit::lifecycle::{self, diff, install, list, status, uninstall};
use ociunit::output;
use ociunit::shell::Shell;

use super::args::{CompileArgs, ManagerArgs, UnitDirArg};
use super::{print, print_json, print_report, report_failure, warn};

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
    /// Print the report as JSON (format `ociunit-install/1`).
    #[arg(long)]
    pub(super) json: bool,
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
        let report = install::install(&request, &Shell::stderr(false))?;
        warn(&report.warnings);
        print_report(
            self.json,
            &report,
            ociunit::lifecycle::install::Report::text,
        )?;
        Ok(0)
    }
}

#[derive(Args)]
pub(super) struct Diff {
    #[command(flatten)]
    compile: CompileArgs,
    #[command(flatten)]
    dir: UnitDirArg,
    /// Print the differences as JSON (format `ociunit-diff/1`).
    #[arg(long)]
    pub(super) json: bool,
}

/// The `--json` document's format; a change to its shape changes the string.
const DIFF_FORMAT: &str = "ociunit-diff/1";

/// What `install` would change.
#[derive(Serialize)]
struct DiffReport {
    format: &'static str,
    unit: String,
    /// Some file differs (the exit status is 1).
    different: bool,
    /// The unit, then (container mode) the runtime's config.
    files: Vec<FileDiff>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct FileDiff {
    path: PathBuf,
    /// There is a file at `path` now.
    exists: bool,
    /// The unified diff from it to what install would write; `None` when they are the same.
    diff: Option<String>,
}

impl Diff {
    /// Any error exits 2, as for diff(1): 1 says only that the files differ.
    pub(super) fn run(self) -> Result<u8, Error> {
        let json = self.json;
        self.compare().or_else(|err| {
            report_failure(&err, json, 2);
            Ok(2)
        })
    }

    fn compare(self) -> Result<u8, Error> {
        let (plan, text, warnings) = self.compile.unit_text()?;
        let unit_dir = lifecycle::unit_dir(
            self.compile.target.manager.manager(),
            self.dir.unit_dir.as_deref(),
        )?;
        let path = unit_dir.join(&plan.unit);
        let installed =
            output::read_unit(&path)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let mut files = vec![FileDiff {
            diff: diff::unified(&path, installed.as_deref(), &text),
            exists: installed.is_some(),
            path,
        }];
        // The runtime's config is part of what install writes: its drift is a difference too.
        if let Some(container) = &plan.container {
            let config = container.config_dir.join("config.json");
            let on_disk = match std::fs::read_to_string(&config) {
                Ok(text) => Some(text),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => return Err(Error::io("cannot read", &config, err)),
            };
            files.push(FileDiff {
                diff: diff::unified(&config, on_disk.as_deref(), &container.config_text()),
                exists: on_disk.is_some(),
                path: config,
            });
        }
        let different = files.iter().any(|file| file.diff.is_some());
        warn(&warnings);
        if self.json {
            print_json(&DiffReport {
                format: DIFF_FORMAT,
                unit: plan.unit,
                different,
                files,
                warnings,
            })?;
        } else {
            let diffs: Vec<&str> = files
                .iter()
                .filter_map(|file| file.diff.as_deref())
                .collect();
            print(&diffs.concat())?;
        }
        Ok(u8::from(different))
    }
}

#[derive(Args)]
pub(super) struct List {
    #[command(flatten)]
    manager: ManagerArgs,
    #[command(flatten)]
    dir: UnitDirArg,
    /// Print the list as JSON (format `ociunit-list/1`).
    #[arg(long)]
    pub(super) json: bool,
}

/// The `--json` document's format; a change to its shape changes the string.
const LIST_FORMAT: &str = "ociunit-list/1";

#[derive(Serialize)]
struct ListReport {
    format: &'static str,
    units: Vec<list::Listed>,
}

impl List {
    pub(super) fn run(self) -> Result<u8, Error> {
        let manager = self.manager.manager();
        let mut listed = list::units(manager, self.dir.unit_dir.as_deref())?;
        list::add_states(&mut listed, manager);
        if self.json {
            print_json(&ListReport {
                format: LIST_FORMAT,
                units: listed,
            })?;
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
    /// Print the report as JSON (format `ociunit-status/1`).
    #[arg(long)]
    pub(super) json: bool,
}

impl Status {
    pub(super) fn run(self) -> Result<u8, Error> {
        let report = status::status(
            self.manager.manager(),
            &compile::unit_name_of(&self.unit, "service")?,
        )?;
        print_report(self.json, &report, ociunit::lifecycle::status::Report::text)?;
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
    /// Print what was removed as JSON (format `ociunit-uninstall/1`).
    #[arg(long)]
    pub(super) json: bool,
}

impl Uninstall {
    pub(super) fn run(self) -> Result<u8, Error> {
        let report = uninstall::uninstall(
            &uninstall::UninstallRequest {
                manager: self.manager.manager(),
                unit: self.unit,
                unit_dir: self.dir.unit_dir,
                keep_running: self.keep_running,
                force: self.force,
            },
            &Shell::stderr(false),
        )?;
        print_report(self.json, &report, |report| {
            format!("removed {}\n", report.path.display())
        })?;
        Ok(0)
    }
}
