//! `ociunit install`: compile, write atomically, reload, and optionally enable and start —
//! undoing the write if the manager refuses to reload, so a failure leaves the old state.

use std::path::{Path, PathBuf};

use crate::compile::{self, Request};
use crate::error::Error;
use crate::manager;
use crate::output::{self, Replaced};
use crate::plan::Plan;
use crate::render::unit;

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

/// Writes the unit at `path` (and a container's runtime config first, so that the unit never
/// names one that is not there) under [`output::write_unit`]'s rules, then reloads the manager;
/// if it refuses, puts back `previous` (and the previous config), so a failure leaves the old
/// state. `lock` on the unit directory was taken before `previous` was read.
pub(super) fn write_and_reload(
    lock: &output::DirLock,
    proxy: &manager::ManagerProxy,
    plan: &Plan,
    path: &Path,
    text: &str,
    previous: Option<&[u8]>,
    force: bool,
) -> Result<(), Error> {
    let previous_config = match &plan.container {
        Some(container) => {
            let config = container.config_dir.join("config.json");
            let previous = std::fs::read(&config).ok();
            output::write_runtime_config(container)?;
            previous.map(|bytes| (config, bytes))
        }
        None => None,
    };
    match output::write_unit(lock, path, text, force)? {
        Replaced::BackedUp(backup) => {
            eprintln!("ociunit: kept the previous unit as {}", backup.display())
        }
        Replaced::Nothing | Replaced::Generated => {}
    }
    if let Err(err) = proxy.reload() {
        let undone = match previous {
            Some(old) => output::write_atomically(path, old),
            None => std::fs::remove_file(path).map_err(|e| Error::io("cannot remove", path, &e)),
        }
        .and_then(|()| match &previous_config {
            Some((config, bytes)) => output::write_atomically(config, bytes),
            None => Ok(()),
        });
        let state = match undone {
            Ok(()) => "the previous state is restored".to_owned(),
            Err(undo) => format!("undoing the write failed too ({undo})"),
        };
        return Err(manager::call_error(
            &format!("{}: reloading the manager failed ({state})", path.display()),
            &err,
        ));
    }
    Ok(())
}

pub fn install(install: &InstallRequest) -> Result<(), Error> {
    let plan = compile::compile(&install.bundle, &install.request)?;
    let text = unit::render(&plan, &install.launcher)?;
    let manager_kind = install.request.target.manager;
    let dir = super::unit_dir(manager_kind, install.unit_dir.as_deref())?;
    let path = dir.join(&plan.unit);
    // A dry run writes nothing, so it neither creates the directory nor waits for its lock.
    let lock = match install.dry_run {
        true => None,
        false => {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, &e))?;
            Some(output::lock_dir(&dir)?)
        }
    };
    let previous = output::read_unit(&path)?;
    let unchanged = previous.as_deref() == Some(text.as_bytes());

    let runtime_config = plan
        .container
        .as_ref()
        .map(|c| (c, c.config_dir.join("config.json")));

    let Some(lock) = lock else {
        if let Some((container, config)) = &runtime_config {
            println!(
                "would write {} ({} bytes)",
                config.display(),
                container.config_text().len()
            );
        }
        println!(
            "would write {} ({} bytes{})",
            path.display(),
            text.len(),
            if unchanged { ", unchanged" } else { "" }
        );
        println!("would call Reload()");
        if install.enable {
            println!(
                "would call EnableUnitFiles([{:?}], false, false)",
                plan.unit
            );
        }
        if install.now {
            let method = if unchanged {
                "StartUnit"
            } else {
                "RestartUnit"
            };
            println!(
                "would call {method}({:?}, \"replace\") and wait for the job",
                plan.unit
            );
        }
        return Ok(());
    };

    let connection = manager::connect(manager_kind)?;
    let proxy = manager::proxy(&connection)?;
    write_and_reload(
        &lock,
        &proxy,
        &plan,
        &path,
        &text,
        previous.as_deref(),
        install.force,
    )?;
    println!("installed {}", path.display());
    if install.enable {
        let (_, changes) = proxy
            .enable_unit_files(&[plan.unit.as_str()], false, false)
            .map_err(|e| {
                manager::call_error(
                    &format!(
                        "{} is installed and loaded, but enabling it failed",
                        plan.unit
                    ),
                    &e,
                )
            })?;
        for (kind, link, target) in changes {
            println!("{kind} {link} → {target}");
        }
    }
    if install.now {
        let mut jobs = manager::jobs(&connection)?;
        let started = if unchanged {
            proxy.start_unit(&plan.unit, "replace")
        } else {
            proxy.restart_unit(&plan.unit, "replace")
        };
        let job = started.map_err(|e| {
            manager::call_error(
                &format!("{} is installed, but starting it failed", plan.unit),
                &e,
            )
        })?;
        match manager::job_result(&mut jobs, &job).as_deref() {
            Some("done") => println!("started {}", plan.unit),
            result => {
                return Err(Error::Host(format!(
                    "{} is installed, but its start job ended with {:?}; see {} status {}",
                    plan.unit,
                    result.unwrap_or("no result"),
                    super::systemctl(manager_kind),
                    plan.unit
                )));
            }
        }
    }
    Ok(())
}
