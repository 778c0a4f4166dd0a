//! What runs, in one picture ([`Running`]) built the same way from either source: an installed
//! unit's file, read as systemd reads it ([`systemd_reading`]), or a transient unit's properties
//! over D-Bus. Either way the launcher's command line is read by the launcher's own grammar
//! ([`LaunchSpec::parse`]), so the comparison never depends on how a unit file lays it out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroupfs::Mount;
use crate::cgroupfs::error::CgroupError;
use crate::cgroupfs::tree::Tree;
use crate::compile;
use crate::error::Error;
use crate::launch::grammar::{Invocation, LaunchSpec};
use crate::output;
use crate::plan::property::DbusProperty;
use crate::plan::{Plan, Spawner};
use crate::render::dbus::{self, RunOptions, Transient};
use crate::render::escape;
use crate::render::systemd_reading::{self, Setting};
use crate::systemd::{self, Properties};
use crate::target::Manager;

use super::super::status::limits;

/// What the running unit was started with, as far as the comparison needs it.
#[derive(Debug)]
pub(super) struct Running {
    /// Its `[Service]` keys (a transient unit's: those of the file systemd keeps for it): a
    /// limit among them that the bundle no longer sets is dropped.
    pub keys: BTreeSet<String>,
    pub start: Start,
}

/// What a process was started with: the part of [`Running`] that a rewritten unit file no
/// longer tells, and so the part [`Started`] keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Start {
    /// The leaf files its launcher wrote.
    pub writes: BTreeSet<String>,
    /// Its settings by name: `ExecStart` (the launcher), `ExecStart --OPTION` (each launcher
    /// option's values, spelled as in a unit file), and the others by their unit-file or D-Bus
    /// name. The limits are among them: the diff compares those live instead, unless the unit
    /// is not running.
    pub settings: BTreeMap<String, Vec<String>>,
}

impl Running {
    /// A unit file, as systemd reads it: its `[Service]` settings, the launcher's command line
    /// in its `ExecStart=`, and the runtime (`[X-Ociunit] Runtime=`) a container runs with.
    pub fn unit_file(text: &str) -> Result<Running, String> {
        let settings = systemd_reading::settings(text)?;
        let argv = systemd_reading::exec_start_in(&settings)?
            .into_iter()
            .map(|word| String::from_utf8(word).map_err(|e| format!("ExecStart=: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let (launcher, args) = argv.split_first().ok_or("an empty ExecStart=")?;
        let spec = launch_spec(args.iter().cloned())?;
        let mut others: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for setting in &settings {
            let kept = match setting.section.as_str() {
                "Service" => setting.key != "ExecStart",
                "X-Ociunit" => setting.key == "Runtime",
                _ => false,
            };
            if kept {
                others
                    .entry(setting.key.clone())
                    .or_default()
                    .push(setting.value.clone());
            }
        }
        Ok(Running {
            keys: service_keys(&settings),
            start: Start::new(launcher, &spec, others),
        })
    }

    /// A transient service has no unit file of ours: what it runs is its `ExecStart` and its
    /// properties as the manager reports them, and the keys it was given are those of the file
    /// systemd keeps for it (`FragmentPath`).
    pub fn transient(
        plan: &Plan,
        fragment_path: &str,
        service: &Properties,
    ) -> Result<Running, Error> {
        let fragment = std::fs::read_to_string(fragment_path).unwrap_or_default();
        let commands = service
            .get::<Vec<ExecCommand>>("ExecStart")
            .unwrap_or_default();
        // systemd keeps `$$` in a command received over the bus and expands it at start.
        let launched = commands.first().and_then(|(path, argv, ..)| {
            let args = argv.iter().skip(1).map(|word| word.replace("$$", "$"));
            Some((path, launch_spec(args).ok()?))
        });
        let Some((path, spec)) = launched else {
            return Err(Error::NotOurs {
                unit: plan.unit.clone(),
            });
        };
        let properties = transient_properties(plan, Path::new(path)).filter_map(|p| {
            let value = service.get::<zbus::zvariant::OwnedValue>(p.name)?;
            Some((p.name.to_owned(), vec![value.to_string()]))
        });
        Ok(Running {
            keys: systemd_reading::settings(&fragment)
                .map(|settings| service_keys(&settings))
                .unwrap_or_default(),
            start: Start::new(path, &spec, properties),
        })
    }

    /// What runs when an `apply` rewrote this unit file since the unit started: the settings
    /// the process started with are the `kept` ones, and the leaf files those its launcher or
    /// that `apply` wrote.
    pub fn since_rewritten(self, kept: Start) -> Running {
        let mut writes = kept.writes;
        writes.extend(self.start.writes);
        Running {
            keys: self.keys,
            start: Start {
                writes,
                settings: kept.settings,
            },
        }
    }
}

impl Start {
    /// `others` by name, the last of a name winning, as in systemd.
    fn new(
        launcher: &str,
        spec: &LaunchSpec,
        others: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Start {
        let mut settings: BTreeMap<String, Vec<String>> = BTreeMap::new();
        settings.insert(
            "ExecStart".to_owned(),
            vec![escape::exec_line(&[launcher.to_owned()])],
        );
        for group in spec.to_arg_groups() {
            if let Some((name, value)) = group.split_first() {
                settings
                    .entry(format!("ExecStart {name}"))
                    .or_default()
                    .push(escape::exec_line(value));
            }
        }
        settings.extend(others);
        Start {
            writes: spec.writes.iter().map(|w| w.file.to_string()).collect(),
            settings,
        }
    }

    /// What `ociunit run --service` starts the plan with, in the terms of [`Running::transient`].
    pub fn of_transient(plan: &Plan, launcher: &Path) -> Start {
        let properties = transient_properties(plan, launcher)
            .map(|p| (p.name.to_owned(), vec![systemd::to_value(&p).to_string()]));
        Start::new(
            &launcher.to_string_lossy(),
            &plan.launch_spec(Spawner::Systemd).0,
            properties,
        )
    }
}

/// `ExecStart`'s entries over D-Bus: path, argv, ignore errors, then timestamps and status.
type ExecCommand = (String, Vec<String>, bool, u64, u64, u64, u64, u32, i32, i32);

fn launch_spec(args: impl IntoIterator<Item = String>) -> Result<LaunchSpec, String> {
    match LaunchSpec::parse(args) {
        Ok(Invocation::Launch(spec)) => Ok(*spec),
        Ok(_) => Err("ExecStart= asks ociunit-launch for --help or --version".into()),
        Err(err) => Err(format!(
            "ExecStart= is not an ociunit-launch command line ({err})"
        )),
    }
}

/// The `[Service]` keys of a unit file.
fn service_keys(settings: &[Setting]) -> BTreeSet<String> {
    settings
        .iter()
        .filter(|s| s.section == "Service")
        .map(|s| s.key.clone())
        .collect()
}

/// The properties `ociunit run --service` starts the plan with that apply compares as
/// start-time settings: not the limits (compared live), the description or the command line.
fn transient_properties(plan: &Plan, launcher: &Path) -> impl Iterator<Item = DbusProperty> {
    let live: BTreeSet<&str> = limits()
        .flat_map(|spec| spec.dbus.iter().map(|(name, _)| *name))
        .collect();
    let transient = Transient::Service { launcher };
    dbus::properties(plan, &transient, &RunOptions::default())
        .into_iter()
        .filter(move |p| !live.contains(p.name) && !matches!(p.name, "Description" | "ExecStart"))
}

/// The payload's leaf cgroup of a running unit, where the launcher wrote its limits.
pub(super) fn leaf_tree(service: &Properties, leaf: &str) -> Result<Tree, CgroupError> {
    let cgroup = service.text("ControlGroup");
    Mount::discover().and_then(|mount| Tree::open(&mount, &cgroup, leaf))
}

/// In container mode, the runtime's config the container was started from ("" if it cannot
/// be read): the one in its config directory, which apply replaces only after reading it.
pub(super) fn runtime_config(plan: &Plan) -> Option<String> {
    plan.container
        .as_ref()
        .map(|c| std::fs::read_to_string(c.config_dir.join("config.json")).unwrap_or_default())
}

/// What the running invocation of a unit started with, kept by the first `apply` that rewrote
/// its unit file: what a later `apply` compares the start-time settings with, since the
/// installed file no longer says what runs. It carries the unit's InvocationID, which changes at
/// every start, so it is believed only for the invocation it was kept for.
pub(super) struct Started {
    path: PathBuf,
    invocation: String,
}

/// What the running invocation started with, to keep should this `apply` rewrite its unit
/// file: only the first rewrite since the start keeps it, a later one finds the record.
pub(super) struct KeepOnRewrite {
    pub record: Started,
    pub start: Start,
}

/// [`Started`]'s file: JSON, so that reading it back is not parsing a unit file again.
#[derive(Serialize, Deserialize)]
struct Record {
    invocation_id: String,
    start: Start,
}

impl Started {
    /// The record of `unit`'s running invocation, in the state directory its runtime config
    /// goes to.
    pub fn of(
        state_dir: Option<&Path>,
        manager: Manager,
        unit: &str,
        invocation: String,
    ) -> Result<Started, Error> {
        let state_dir = match state_dir {
            Some(dir) => dir.to_owned(),
            None => compile::default_state_dir(manager)?,
        };
        Ok(Started {
            path: state_dir.join("started").join(unit),
            invocation,
        })
    }

    pub fn read(&self) -> Option<Start> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let (invocation, start) = if let Ok(record) = serde_json::from_str::<Record>(&text) {
            (record.invocation_id, record.start)
        } else {
            // An earlier ociunit kept the unit file itself, after an `InvocationID=` line.
            let (first, unit) = text.split_once('\n')?;
            let invocation = first.strip_prefix("InvocationID=")?.to_owned();
            (invocation, Running::unit_file(unit).ok()?.start)
        };
        (!self.invocation.is_empty() && invocation == self.invocation).then_some(start)
    }

    pub fn keep(&self, start: Start) -> Result<(), Error> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        }
        let record = Record {
            invocation_id: self.invocation.clone(),
            start,
        };
        let json = serde_json::to_string(&record).expect("a record serializes");
        output::write_atomically(&self.path, json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sources name the same process alike: a unit file read back and the properties a
    /// transient unit is started with give one picture of the launcher's command line.
    #[test]
    fn a_unit_file_and_a_transient_start_read_alike() {
        let (plan, text) = super::super::diff::tests::plan_of(
            r#"{"memory":{"limit":536870912}}"#,
            r#"["/bin/sh","-c","echo \"$HOME\" 100%"]"#,
        );
        let launcher = Path::new(super::super::diff::tests::LAUNCHER);
        let file = Running::unit_file(&text).unwrap().start;
        let transient = Start::of_transient(&plan, launcher);
        assert_eq!(file.writes, transient.writes);
        let exec = |start: &Start| {
            start
                .settings
                .iter()
                .filter(|(name, _)| name.starts_with("ExecStart"))
                .map(|(name, values)| (name.clone(), values.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(exec(&file), exec(&transient));
        assert_eq!(
            file.settings["ExecStart --"],
            [r#"/bin/sh -c "echo \"$$HOME\" 100%%""#]
        );
        assert_eq!(file.settings["ExecStart --write"], ["memory.max=536870912"]);
        assert_eq!(file.settings["MemoryMax"], ["536870912"]);
    }

    #[test]
    fn a_unit_that_does_not_run_the_launcher_is_refused() {
        let unit = "[Service]\nExecStart=/bin/sleep 600\n";
        let err = Running::unit_file(unit).unwrap_err();
        assert!(err.contains("not an ociunit-launch command line"), "{err}");
    }

    /// The record is believed only for the invocation it was kept for; one an earlier ociunit
    /// kept (the unit file after an `InvocationID=` line) is read too.
    #[test]
    fn the_kept_record_is_for_one_invocation() {
        let dir = tempfile::tempdir().unwrap();
        let started = |invocation: &str| {
            Started::of(
                Some(dir.path()),
                Manager::User,
                "web.service",
                invocation.to_owned(),
            )
            .unwrap()
        };
        let (_, text) = super::super::diff::tests::plan_of("{}", r#"["/bin/sleep","600"]"#);
        let start = Running::unit_file(&text).unwrap().start;
        assert_eq!(started("a1").read(), None);
        started("a1").keep(start.clone()).unwrap();
        assert_eq!(started("a1").read(), Some(start.clone()));
        assert_eq!(started("b2").read(), None, "another invocation");
        assert_eq!(started("").read(), None, "no invocation");

        let old = dir.path().join("started/web.service");
        std::fs::write(&old, format!("InvocationID=c3\n{text}")).unwrap();
        assert_eq!(started("c3").read(), Some(start));
        assert_eq!(started("a1").read(), None);
    }
}
