//! `ociunit install`: compile, write atomically, reload, and optionally enable and start —
//! undoing the write if the manager refuses to reload, so a failure leaves the old state.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bundle::Bundle;
use crate::compile::{self, Context, Request};
use crate::error::Error;
use crate::output::{self, Replaced};
use crate::plan::Plan;
use crate::render::unit;
use crate::shell::Shell;
use crate::systemd::{Bus, CallFailed, Via};

pub use crate::systemd::LinkChange;

#[derive(Clone, Debug)]
pub struct InstallRequest {
    pub bundle: PathBuf,
    pub request: Request,
    pub launcher: PathBuf,
    pub unit_dir: Option<PathBuf>,
    pub enable: bool,
    pub now: bool,
    pub force: bool,
    pub dry_run: bool,
}

/// The `--json` document's format; a change to its shape changes the string.
pub const FORMAT: &str = "ociunit-install/1";

/// What `install` did, or with `dry_run` would do.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub unit: String,
    pub dry_run: bool,
    /// The runtime's config (container mode) first, then the unit.
    pub files: Vec<Written>,
    /// The manager's methods called (or to be called), in order, as `Method(arguments)`.
    pub calls: Vec<String>,
    /// The links `EnableUnitFiles` made.
    pub enabled: Vec<LinkChange>,
    /// The start job's result (`done`) after `--now`; `None` without `--now`, with `dry_run`,
    /// and when the unit already ran this unit file (nothing to start).
    pub started: Option<String>,
    /// What `--now` did, for the text.
    #[serde(skip)]
    pub now: Option<Now>,
    pub warnings: Vec<String>,
}

/// What `install --now` did to the unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Now {
    Started,
    Restarted,
    /// It runs, and its file did not change: nothing to start.
    LeftRunning,
}

#[derive(Clone, Debug, Serialize)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: usize,
    /// The file already has exactly this content.
    pub unchanged: bool,
    /// Where the replaced file was kept (one ociunit did not generate, or edited since).
    pub backup: Option<PathBuf>,
}

impl Report {
    /// The report as `install` prints it without `--json`.
    pub fn text(&self) -> String {
        let mut text = String::new();
        if self.dry_run {
            for file in &self.files {
                let unchanged = if file.unchanged { ", unchanged" } else { "" };
                let _ = writeln!(
                    text,
                    "would write {} ({} bytes{unchanged})",
                    file.path.display(),
                    file.bytes
                );
            }
            for call in &self.calls {
                let job = ["StartUnit(", "RestartUnit("]
                    .iter()
                    .any(|method| call.starts_with(method));
                let wait = if job { " and wait for the job" } else { "" };
                let _ = writeln!(text, "would call {call}{wait}");
            }
            return text;
        }
        if let Some(unit) = self.files.last() {
            let _ = writeln!(text, "installed {}", unit.path.display());
        }
        for change in &self.enabled {
            let _ = writeln!(text, "{} {} → {}", change.kind, change.link, change.target);
        }
        let _ = match self.now {
            Some(Now::Started) => writeln!(text, "started {}", self.unit),
            Some(Now::Restarted) => writeln!(text, "restarted {}", self.unit),
            Some(Now::LeftRunning) => writeln!(
                text,
                "{} is running and its unit file did not change: not restarted",
                self.unit
            ),
            None => Ok(()),
        };
        text
    }
}

/// A unit (and a container's runtime config) written but not yet read by the manager.
pub(super) struct Pending<'a> {
    path: &'a Path,
    previous: Option<&'a [u8]>,
    previous_config: Option<(PathBuf, Vec<u8>)>,
    /// Where a replaced unit was kept.
    backup: Option<PathBuf>,
}

/// Writes the unit at `path` (and a container's runtime config first, so that the unit never
/// names one that is not there) under [`output::write_unit`]'s rules. `lock` on the unit
/// directory was taken before `previous` was read.
pub(super) fn write<'a>(
    lock: &output::DirLock,
    plan: &Plan,
    path: &'a Path,
    text: &str,
    previous: Option<&'a [u8]>,
    force: bool,
    shell: &Shell,
) -> Result<Pending<'a>, Error> {
    let previous_config = match &plan.container {
        Some(container) => {
            let config = container.config_dir.join("config.json");
            let previous = std::fs::read(&config).ok();
            output::write_runtime_config(container)?;
            previous.map(|bytes| (config, bytes))
        }
        None => None,
    };
    let backup = match output::write_unit(lock, path, text, force)? {
        Replaced::BackedUp(backup) => {
            shell.note(format!("kept the previous unit as {}", backup.display()));
            Some(backup)
        }
        Replaced::Nothing | Replaced::Generated => None,
    };
    Ok(Pending {
        path,
        previous,
        previous_config,
        backup,
    })
}

impl Pending<'_> {
    /// Has the manager reload; if it refuses, puts back the previous unit (and config), so a
    /// failure leaves the old state. Returns where a replaced unit was kept.
    pub(super) fn reload(
        self,
        reload: impl FnOnce() -> Result<(), CallFailed>,
    ) -> Result<Option<PathBuf>, Error> {
        let Err(err) = reload() else {
            return Ok(self.backup);
        };
        let path = self.path;
        let undone = match self.previous {
            Some(old) => output::write_atomically(path, old),
            None => std::fs::remove_file(path).map_err(|e| Error::io("cannot remove", path, e)),
        }
        .and_then(|()| match &self.previous_config {
            Some((config, bytes)) => output::write_atomically(config, bytes),
            None => Ok(()),
        });
        let state = match undone {
            Ok(()) => "the previous state is restored".to_owned(),
            Err(undo) => format!("undoing the write failed too ({undo})"),
        };
        Err(err.during(format!(
            "{}: reloading the manager failed ({state})",
            path.display()
        )))
    }
}

pub fn install(install: &InstallRequest, shell: &Shell) -> Result<Report, Error> {
    let request = &install.request;
    let (plan, warnings) = compile::with_warnings(
        &Bundle::load(&install.bundle)?,
        request,
        &Context::installed(request),
    )?;
    let text = unit::render(&plan, &install.launcher)?;
    let manager_kind = install.request.target.manager;
    let dir = super::unit_dir(manager_kind, install.unit_dir.as_deref())?;
    let path = dir.join(&plan.unit);
    // A dry run writes nothing, so it neither creates the directory nor waits for its lock.
    let lock = if install.dry_run {
        None
    } else {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        Some(output::lock_dir(&dir)?)
    };
    let previous = output::read_unit(&path)?;
    let unchanged = previous.as_deref() == Some(text.as_bytes());

    let mut files = Vec::new();
    if let Some(container) = &plan.container {
        let config = container.config_dir.join("config.json");
        let config_text = container.config_text();
        files.push(Written {
            unchanged: std::fs::read(&config).is_ok_and(|bytes| bytes == config_text.as_bytes()),
            path: config,
            bytes: config_text.len(),
            backup: None,
        });
    }
    let start_method = if unchanged {
        "StartUnit"
    } else {
        "RestartUnit"
    };
    let mut report = Report {
        format: FORMAT,
        unit: plan.unit.clone(),
        dry_run: install.dry_run,
        files,
        calls: vec!["Reload()".to_owned()],
        enabled: Vec::new(),
        started: None,
        now: None,
        warnings,
    };
    if install.enable {
        report
            .calls
            .push(format!("EnableUnitFiles([{:?}], false, false)", plan.unit));
    }
    if install.now {
        report
            .calls
            .push(format!("{start_method}({:?}, \"replace\")", plan.unit));
    }
    // The lock is taken for a real install only.
    let Some(lock) = lock else {
        report.files.push(Written {
            path,
            bytes: text.len(),
            unchanged,
            backup: None,
        });
        return Ok(report);
    };

    let mut bus = Bus::open(manager_kind, Via::Private)?;
    let backup = write(
        &lock,
        &plan,
        &path,
        &text,
        previous.as_deref(),
        install.force,
        shell,
    )?
    .reload(|| bus.reload())?;
    report.files.push(Written {
        path,
        bytes: text.len(),
        unchanged,
        backup,
    });
    if install.enable {
        report.enabled = bus.enable_unit_files(&[plan.unit.as_str()]).map_err(|e| {
            e.during(format!(
                "{} is installed and loaded, but enabling it failed",
                plan.unit
            ))
        })?;
    }
    if install.now {
        // A unit that runs and whose file did not change has nothing to start: StartUnit would
        // be a job that does nothing, and "started" a claim that something did.
        let running = bus.unit(&plan.unit).is_ok_and(|state| state.active());
        if running && unchanged {
            report.calls.pop();
            report.now = Some(Now::LeftRunning);
            return Ok(report);
        }
        let started = if unchanged {
            bus.start_unit(&plan.unit)
        } else {
            bus.restart_unit(&plan.unit)
        };
        let job = started.map_err(|e| {
            e.during(format!(
                "{} is installed, but starting it failed",
                plan.unit
            ))
        })?;
        bus.wait(&job, &plan.unit)?;
        report.started = Some("done".to_owned());
        report.now = Some(if running {
            Now::Restarted
        } else {
            Now::Started
        });
    }
    Ok(report)
}
