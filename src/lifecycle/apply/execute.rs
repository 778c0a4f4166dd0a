//! Making the decided changes: `SetUnitProperties` and the leaf writes in their order, then the
//! runtime drop-ins those calls left, the manager's reload, and a restart if asked for.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cgroupfs::error::CgroupError;
use crate::cgroupfs::tree::Tree;
use crate::error::Error;
use crate::plan::property::DbusProperty;
use crate::plan::{Plan, Spawner};
use crate::systemd::{self, Bus};

use super::super::install::Pending;
use super::diff::{Action, Planned};
use super::report::{Change, Outcome};

/// Makes the live changes in their order. The first that fails stops the rest, which are left
/// for the next start (the unit file carries them): a limit is never applied out of its
/// order. Returns whether a property was set, which leaves runtime drop-ins behind.
pub(super) fn live_changes(
    planned: &mut [Planned],
    bus: &mut Bus,
    plan: &Plan,
    tree: Option<&Result<Tree, CgroupError>>,
) -> bool {
    let (launch, _) = plan.launch_spec(Spawner::Systemd);
    let mut failed = false;
    let mut set_live = false;
    let mut controllers_enabled = false;
    for step in planned {
        let Some(action) = &step.action else {
            if step.field.change == Change::NextStart {
                step.field.outcome = Some(Outcome::Applied);
            }
            continue;
        };
        if failed {
            step.field.outcome = Some(Outcome::NotApplied);
            continue;
        }
        let result = match action {
            Action::Property(spec, new) => {
                let property = DbusProperty::new(spec.dbus[0].0, new.clone());
                set_live = true;
                bus.set_unit_properties(
                    &plan.unit,
                    true,
                    vec![(property.name, systemd::to_value(&property))],
                )
                .map_err(|e| {
                    e.during(format!("SetUnitProperties {}", spec.key))
                        .to_string()
                })
            }
            Action::Leaf(write) => match tree {
                Some(Ok(tree)) => {
                    let enabled = if controllers_enabled {
                        Ok(())
                    } else {
                        tree.enable_controllers(&launch.needed_controllers())
                    };
                    controllers_enabled = true;
                    enabled
                        .and_then(|()| tree.write(write))
                        .map_err(|e| e.to_string())
                }
                Some(Err(err)) => Err(err.to_string()),
                None => Err("the unit is not running".to_owned()),
            },
        };
        match result {
            Ok(()) => step.field.outcome = Some(Outcome::Applied),
            Err(why) => {
                step.field.outcome = Some(Outcome::Failed);
                step.field.error = Some(why);
                failed = true;
            }
        }
    }
    set_live
}

/// Has the manager read the rewritten unit file (`pending`) and forget the runtime drop-ins
/// just removed. A failed reload puts the previous unit file back; the limits changed live
/// (`set_live`) stay changed, which the error says.
pub(super) fn reload(
    bus: &mut Bus,
    pending: Option<Pending<'_>>,
    set_live: bool,
    drop_ins_removed: bool,
) -> Result<(), Error> {
    match pending {
        Some(pending) => {
            pending
                .reload(|| bus.reload())
                .map_err(|err| match (set_live, err) {
                    (
                        true,
                        Error::Call {
                            what,
                            name,
                            message,
                        },
                    ) => Error::Call {
                        what: format!("{what}; the limits changed live before it stay changed"),
                        name,
                        message,
                    },
                    (_, err) => err,
                })?;
        }
        None if drop_ins_removed => bus
            .reload()
            .map_err(|e| e.during("reloading the manager"))?,
        None => {}
    }
    Ok(())
}

pub(super) fn restart(bus: &mut Bus, unit: &str) -> Result<u32, Error> {
    let job = bus
        .restart_unit(unit)
        .map_err(|e| e.during(format!("{unit} is rewritten, but restarting it failed")))?;
    bus.wait(&job, unit)?;
    let state = bus
        .unit(unit)
        .map_err(|e| e.during(format!("reading {unit}")))?;
    Ok(state.service.get::<u32>("MainPID").unwrap_or(0))
}

/// The drop-ins `SetUnitProperties` with `runtime` writes for a unit that has a unit file
/// (`50-MemoryMax.conf`, …, in the manager's runtime control directory). They would override
/// the unit file, and so every later install, until the next boot: apply removes those its
/// calls wrote before the manager reloads, and the unit file stays the one definition. Which
/// ones are told by what changed in the directory, since systemd names some after another key
/// (`CPUQuota` for `CPUQuotaPerSecUSec`); a drop-in the user made stays unless a call rewrote it.
pub(super) struct ControlDropIns {
    dir: PathBuf,
    before: BTreeMap<OsString, (u64, SystemTime)>,
}

impl ControlDropIns {
    pub fn scan(dir: PathBuf) -> ControlDropIns {
        let before = Self::list(&dir);
        ControlDropIns { dir, before }
    }

    /// Each file by name, with what tells a rewrite: its inode (systemd replaces the file) and
    /// its modification time.
    fn list(dir: &Path) -> BTreeMap<OsString, (u64, SystemTime)> {
        use std::os::unix::fs::MetadataExt;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return BTreeMap::new();
        };
        entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let meta = entry.metadata().ok()?;
                Some((entry.file_name(), (meta.ino(), meta.modified().ok()?)))
            })
            .collect()
    }

    /// A drop-in that cannot be removed is only a warning (returned): the live change is made,
    /// and the drop-in holds the same value as the unit file until the next boot.
    pub fn remove_written(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for (name, stamp) in Self::list(&self.dir) {
            if self.before.get(&name) == Some(&stamp) {
                continue;
            }
            let path = self.dir.join(&name);
            if let Err(err) = std::fs::remove_file(&path) {
                warnings.push(format!(
                    "cannot remove {} ({err}): until the next boot it overrides the unit file's \
                     value",
                    path.display()
                ));
            }
        }
        // Only if empty; the manager recreates it when it needs it.
        let _ = std::fs::remove_dir(&self.dir);
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a call wrote goes, what was there before stays, and what cannot be removed is a
    /// warning for the report rather than a line the library prints.
    #[test]
    fn the_drop_ins_the_calls_wrote_are_removed_or_reported() {
        let dir = tempfile::tempdir().unwrap();
        let control = dir.path().join("web.service.d");
        std::fs::create_dir(&control).unwrap();
        std::fs::write(control.join("90-mine.conf"), "[Service]\n").unwrap();
        let drop_ins = ControlDropIns::scan(control.clone());
        std::fs::write(control.join("50-MemoryMax.conf"), "[Service]\n").unwrap();
        // A directory is what `remove_file` cannot remove.
        std::fs::create_dir(control.join("50-TasksMax.conf")).unwrap();
        let warnings = drop_ins.remove_written();
        assert!(control.join("90-mine.conf").exists());
        assert!(!control.join("50-MemoryMax.conf").exists());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("50-TasksMax.conf") && warnings[0].contains("overrides"),
            "{warnings:?}"
        );
    }
}
