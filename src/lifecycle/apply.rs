//! `ociunit apply`: reconcile an installed, running unit with its edited bundle without a
//! restart where the kernel and systemd allow it, and say exactly what still needs one.
//!
//! The old plan cannot be recomputed (the bundle changed), so "what the unit runs now" is read
//! from the unit itself: systemd's limits over D-Bus (by the table's D-Bus names), the launcher's
//! limits from the payload's leaf cgroup, and what only applies at start (the command line, the
//! environment, exec settings, the runtime's config) from the installed unit file, which is what
//! the running process was started from.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cgroupfs::Mount;
use crate::cgroupfs::file::CgroupWrite;
use crate::cgroupfs::tree::Tree;
use crate::compile::{self, Context, Request};
use crate::error::Error;
use crate::launch::grammar::{Invocation, LaunchSpec};
use crate::live::{Live, Runs};
use crate::output;
use crate::plan::property::{DbusProperty, DbusValue, PropertySpec};
use crate::plan::value::{CpuMax, CpuSet, Limit};
use crate::plan::{Plan, Spawner};
use crate::render::dbus::{self, RunOptions, Transient};
use crate::render::unit;
use crate::shell::Shell;
use crate::systemd::{self, Bus, Properties, Via};
use crate::target::Target;

use super::status::{limits, read_live, shown};

/// The `--json` document's format; a change to its shape changes the string.
pub const FORMAT: &str = "ociunit-apply/1";
/// Exit status when a change was written to the unit but takes effect only at the next start.
pub const EXIT_RESTART_NEEDED: u8 = 3;

#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub bundle: PathBuf,
    /// Its `target.systemd` is for checking the bundle before the bus is reached.
    pub request: Request,
    /// `--systemd-version`; without it, the plan is for the version the manager reports.
    pub systemd: Option<u32>,
    pub launcher: PathBuf,
    pub unit_dir: Option<PathBuf>,
    pub dry_run: bool,
    pub restart: bool,
    pub force: bool,
}

/// Who holds a field: systemd (a property), the payload's leaf cgroup (a launcher write), or
/// the process as it was started (the unit file's start-time settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    Systemd,
    Leaf,
    Start,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Unchanged,
    /// A running unit takes it now.
    Live,
    /// Only a restart applies it.
    Restart,
    /// The unit is not running: the rewritten unit file carries it to the next start.
    NextStart,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Applied,
    Failed,
    /// Not tried, because an earlier change failed; the unit file carries it to the next start.
    NotApplied,
    Restarted,
}

/// One field of the comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// A property (`MemoryMax`), a leaf file (`payload/memory.max`) or a start-time setting
    /// (`ExecStart --env`, `WorkingDirectory`, `runtime config`).
    pub name: String,
    #[serde(rename = "where")]
    pub place: Place,
    pub old: Option<String>,
    pub new: Option<String>,
    pub change: Change,
    /// What applying did; absent with `--dry-run` and for unchanged fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Field {
    /// A limit that a running unit takes as it is: changed live, or unchanged.
    fn live_or_unchanged(
        name: String,
        place: Place,
        old: Option<String>,
        new: Option<String>,
        same: bool,
    ) -> Field {
        Field {
            name,
            place,
            old,
            new,
            change: if same {
                Change::Unchanged
            } else {
                Change::Live
            },
            outcome: None,
            error: None,
        }
    }
}

/// The whole report, `--json`'s document.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub unit: String,
    pub dry_run: bool,
    pub active: bool,
    /// A transient service started by `ociunit run --service`: no unit file to rewrite, and no
    /// restart with the bundle's definition.
    pub transient: bool,
    pub main_pid: u32,
    pub fields: Vec<Field>,
    /// Some change is in the unit file but not in the running unit.
    pub restart_needed: bool,
    pub restarted: bool,
}

/// How a live change is made.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    /// `SetUnitProperties` (runtime: a unit file, if any, already carries the value).
    Property(&'static PropertySpec, DbusValue),
    Leaf(CgroupWrite),
}

/// A field and, for a live change, how to make it and when.
#[derive(Clone, Debug)]
struct Planned {
    field: Field,
    action: Option<Action>,
    /// Whether the new value is tighter than the old one (`None`: not comparable).
    tighter: Option<bool>,
}

impl Planned {
    fn new(field: Field) -> Planned {
        Planned {
            field,
            action: None,
            tighter: None,
        }
    }
}

/// Report and exit status (0 all applied live, [`EXIT_RESTART_NEEDED`], 1 a change failed).
pub fn apply(apply: &ApplyRequest, shell: &Shell) -> Result<(Report, u8), Error> {
    let manager_kind = apply.request.target.manager;
    // The manager answers while the bundle is read and its runtime located.
    let mut live = Live::open(&apply.bundle, &apply.request, Via::Private, Runs::Installed)?;
    let request = &apply.request;
    let unit_name = compile::unit_name(&live.bundle, request.name.as_deref())?;
    let dir = super::unit_dir(manager_kind, apply.unit_dir.as_deref())?;
    let path = dir.join(&unit_name);
    // Held from reading the installed unit to the reload, so that what is compared is what is
    // replaced; a dry run holds it too, to compare against a whole install. A transient unit
    // has no file and so no directory to lock.
    let lock = match dir.is_dir() {
        true => Some(output::lock_dir(&dir)?),
        false => None,
    };
    let previous = output::read_unit(&path)?;
    let not_installed = || Error::NotInstalled {
        unit: unit_name.clone(),
        path: path.clone(),
    };
    if previous.is_none() && apply.restart {
        return Err(Error::Usage(format!(
            "{}: --restart needs an installed unit, and {} does not exist: a transient unit \
             started by `ociunit run` restarts with the definition it was started with, not \
             the bundle's; stop it and `ociunit run` the bundle again",
            unit_name,
            path.display()
        )));
    }
    // `run` keeps a container's config with its runtime state, not in the state directory.
    let context = match previous {
        Some(_) => Context::installed(request),
        None => Context::transient(&unit_name),
    };
    let plan = match apply.systemd {
        Some(systemd) => compile::checked(
            &live.bundle,
            &Request {
                target: Target {
                    systemd,
                    ..request.target
                },
                ..request.clone()
            },
            &Context {
                mode: Some(live.mode.clone()),
                ..context
            },
            shell,
        ),
        None => live.plan(request, &context, shell),
    };
    // Without a unit file and without the manager, nothing says there is such a unit: that is
    // what the user can act on (a wrong --name, a bundle never installed).
    let (plan, bus) = match (plan, live.bus()) {
        (Ok(plan), Ok(bus)) => (plan, bus),
        (Err(err @ Error::Input(_)), _) => return Err(err),
        (_, Err(_)) if previous.is_none() => return Err(not_installed()),
        (Err(err), _) | (_, Err(err)) => return Err(err),
    };
    let text = unit::render(&plan, &apply.launcher)?;
    let read = |bus: &mut Bus| {
        bus.unit(&plan.unit)
            .map_err(|e| e.during(format!("reading {}", plan.unit)))
    };
    let unit_state = read(bus)?;
    let active = unit_state.active();
    if previous.is_none() {
        if !unit_state.transient {
            return Err(not_installed());
        }
        if !active {
            return Err(Error::NotRunning {
                unit: plan.unit.clone(),
                state: unit_state.active_state,
            });
        }
    }
    let service = &unit_state.service;
    let cgroup = service.get::<String>("ControlGroup").unwrap_or_default();
    let main_pid = service.get::<u32>("MainPID").unwrap_or(0);
    let tree = match active {
        true => Some(Mount::discover().and_then(|mount| Tree::open(&mount, &cgroup, &plan.leaf))),
        false => None,
    };
    let old_config = plan
        .container
        .as_ref()
        .map(|c| std::fs::read_to_string(c.config_dir.join("config.json")).unwrap_or_default());
    let live = |spec: &PropertySpec| read_live(service, spec);
    let leaf = |file: &str| tree.as_ref()?.as_ref().ok()?.read(file);
    let installed = match &previous {
        Some(previous) => {
            let installed = String::from_utf8_lossy(previous).into_owned();
            let invocation = unit_state.invocation_id.clone();
            let state_dir = match &request.state_dir {
                Some(dir) => dir.clone(),
                None => compile::default_state_dir(manager_kind)?,
            };
            let started = Started {
                path: state_dir.join("started").join(&plan.unit),
                invocation,
            };
            let kept = match active {
                true => started.read(),
                false => None,
            };
            Some((installed, started, kept))
        }
        None => None,
    };
    let old_config = old_config.as_deref();
    let mut planned = match &installed {
        Some((installed, ..)) if !active => not_running(installed, &text, old_config, &plan),
        _ => {
            let (running, new) = match &installed {
                Some((installed, _, kept)) => {
                    let started_text = kept.as_deref().unwrap_or(installed);
                    let running = Running::installed(installed, started_text);
                    (running, start_settings(&text, true))
                }
                None => {
                    let running = Running::transient(&plan, &unit_state.fragment_path, service)?;
                    let new = transient_settings(
                        &apply.launcher.to_string_lossy(),
                        plan.launch_spec(Spawner::Systemd).0,
                        transient_properties(&plan, &apply.launcher)
                            .map(|p| (p.name.to_owned(), systemd::to_value(&p).to_string())),
                    );
                    (running, new)
                }
            };
            classify(&plan, &running, &new, old_config, live, leaf)
        }
    };
    order(&mut planned);
    let mut report = Report {
        format: FORMAT,
        unit: plan.unit.clone(),
        dry_run: apply.dry_run,
        active,
        transient: installed.is_none(),
        main_pid,
        fields: Vec::new(),
        restart_needed: false,
        restarted: false,
    };
    if apply.dry_run {
        report.fields = planned.into_iter().map(|p| p.field).collect();
        report.restart_needed = report.fields.iter().any(|f| f.change == Change::Restart);
        let code = exit_code(&report);
        return Ok((report, code));
    }

    let config_changed = plan
        .container
        .as_ref()
        .is_some_and(|c| old_config != Some(c.config_text().as_str()));
    // The unit is written first, so that a change the loop below stops at is in the file for
    // the next start; the manager reads it last, once the live changes are made, since a
    // reload changes the unit's properties but not its cgroup.
    let pending = match (&lock, &previous, &installed) {
        (Some(lock), Some(previous), Some((installed, started, kept)))
            if *installed != text || config_changed =>
        {
            let pending = super::install::write(
                lock,
                &plan,
                &path,
                &text,
                Some(previous),
                apply.force,
                shell,
            )?;
            if active && kept.is_none() && *installed != text {
                if let Err(err) = started.keep(installed) {
                    eprintln!(
                        "ociunit: warning: cannot keep the unit the running {} started from \
                         ({err}): the next apply compares the start-time settings with the new \
                         unit file",
                        plan.unit
                    );
                }
            }
            Some(pending)
        }
        _ => None,
    };
    let control = installed
        .is_some()
        .then(|| ControlDropIns::scan(systemd::runtime_control_dir(manager_kind, &plan.unit)));
    let (launch, _) = plan.launch_spec(Spawner::Systemd);
    let mut failed = false;
    let mut set_live = false;
    let mut controllers_enabled = false;
    for step in &mut planned {
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
            Action::Leaf(write) => match tree.as_ref() {
                Some(Ok(tree)) => {
                    let enabled = match controllers_enabled {
                        true => Ok(()),
                        false => tree.enable_controllers(&launch.needed_controllers()),
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
    if let (Some(control), true) = (&control, set_live) {
        control.remove_written();
    }
    // The reload forgets the runtime drop-ins just removed, and reads the rewritten unit.
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
        None if set_live && control.is_some() => bus
            .reload()
            .map_err(|e| e.during("reloading the manager"))
            .map(drop)?,
        None => {}
    }
    report.fields = planned.into_iter().map(|p| p.field).collect();
    report.restart_needed = report.fields.iter().any(|f| {
        f.change == Change::Restart
            || matches!(f.outcome, Some(Outcome::Failed | Outcome::NotApplied))
    });
    if report.restart_needed && apply.restart {
        restart(bus, &plan.unit)?;
        report.restarted = true;
        for field in &mut report.fields {
            let waiting = field.change == Change::Restart
                || matches!(field.outcome, Some(Outcome::Failed | Outcome::NotApplied));
            if waiting {
                field.outcome = Some(Outcome::Restarted);
            }
        }
        report.main_pid = read(bus)?.service.get::<u32>("MainPID").unwrap_or(0);
    }
    let code = exit_code(&report);
    Ok((report, code))
}

/// What the running unit was started with, as far as the comparison needs it.
struct Running {
    /// Its `[Service]` keys: a limit among them that the bundle no longer sets is dropped.
    keys: BTreeSet<String>,
    /// The leaf files its launcher wrote.
    writes: BTreeSet<String>,
    /// Its start-time settings by name.
    settings: BTreeMap<String, Vec<String>>,
}

/// `ExecStart`'s entries over D-Bus: path, argv, ignore errors, then timestamps and status.
type ExecCommand = (String, Vec<String>, bool, u64, u64, u64, u64, u32, i32, i32);

impl Running {
    /// `started` is the unit file the running process was started from (the installed one,
    /// unless an earlier `apply` rewrote it since).
    fn installed(installed: &str, started: &str) -> Running {
        let mut writes: BTreeSet<String> = written(started).into_keys().collect();
        writes.extend(written(installed).into_keys());
        Running {
            keys: service_keys(installed)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            writes,
            settings: start_settings(started, true),
        }
    }

    /// A transient service has no unit file of ours: what it runs is its `ExecStart` and its
    /// properties as the manager reports them, and the keys it was given are those of the file
    /// systemd keeps for it (`FragmentPath`).
    fn transient(plan: &Plan, fragment_path: &str, service: &Properties) -> Result<Running, Error> {
        let fragment = std::fs::read_to_string(fragment_path).unwrap_or_default();
        let commands = service
            .get::<Vec<ExecCommand>>("ExecStart")
            .unwrap_or_default();
        // systemd keeps `$$` in a command received over the bus and expands it at start.
        let launched = commands.first().and_then(|(path, argv, ..)| {
            let args = argv.iter().skip(1).map(|word| word.replace("$$", "$"));
            match LaunchSpec::parse(args) {
                Ok(Invocation::Launch(spec)) => Some((path, *spec)),
                _ => None,
            }
        });
        let Some((path, spec)) = launched else {
            return Err(Error::NotOurs {
                unit: plan.unit.clone(),
            });
        };
        let writes = spec.writes.iter().map(|w| w.file.to_string()).collect();
        let properties = transient_properties(plan, Path::new(path)).filter_map(|p| {
            let value = service.get::<zbus::zvariant::OwnedValue>(p.name)?;
            Some((p.name.to_owned(), value.to_string()))
        });
        Ok(Running {
            keys: service_keys(&fragment)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            writes,
            settings: transient_settings(path, spec, properties),
        })
    }
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

/// A transient service's start-time settings, named as [`start_settings`] names a unit file's:
/// the launcher's path and options but its cgroup writes, and the other properties (the last
/// of a name wins, as in systemd).
fn transient_settings(
    launcher: &str,
    mut spec: LaunchSpec,
    properties: impl Iterator<Item = (String, String)>,
) -> BTreeMap<String, Vec<String>> {
    spec.writes.clear();
    spec.controllers.clear();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    out.insert("ExecStart".to_owned(), vec![launcher.to_owned()]);
    for group in spec.to_arg_groups() {
        if let Some((name, value)) = group.split_first() {
            out.entry(format!("ExecStart {name}"))
                .or_default()
                .push(value.join(" "));
        }
    }
    for (name, value) in properties {
        out.insert(name, vec![value]);
    }
    out
}

/// The drop-ins `SetUnitProperties` with `runtime` writes for a unit that has a unit file
/// (`50-MemoryMax.conf`, …, in the manager's runtime control directory). They would override
/// the unit file, and so every later install, until the next boot: apply removes those its
/// calls wrote before the manager reloads, and the unit file stays the one definition. Which
/// ones are told by what changed in the directory, since systemd names some after another key
/// (`CPUQuota` for `CPUQuotaPerSecUSec`); a drop-in the user made stays unless a call rewrote it.
struct ControlDropIns {
    dir: PathBuf,
    before: BTreeMap<std::ffi::OsString, (u64, std::time::SystemTime)>,
}

impl ControlDropIns {
    fn scan(dir: PathBuf) -> ControlDropIns {
        let before = Self::list(&dir);
        ControlDropIns { dir, before }
    }

    /// Each file by name, with what tells a rewrite: its inode (systemd replaces the file) and
    /// its modification time.
    fn list(dir: &Path) -> BTreeMap<std::ffi::OsString, (u64, std::time::SystemTime)> {
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

    /// A drop-in that cannot be removed is only a warning: the live change is made, and the
    /// drop-in holds the same value as the unit file until the next boot.
    fn remove_written(&self) {
        for (name, stamp) in Self::list(&self.dir) {
            if self.before.get(&name) == Some(&stamp) {
                continue;
            }
            let path = self.dir.join(&name);
            if let Err(err) = std::fs::remove_file(&path) {
                eprintln!(
                    "ociunit: warning: cannot remove {} ({err}): until the next boot it \
                     overrides the unit file's value",
                    path.display()
                );
            }
        }
        // Only if empty; the manager recreates it when it needs it.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The unit file the running invocation of a unit started from, kept by the first `apply` that
/// rewrote the file: what a later `apply` compares the start-time settings with, since the
/// installed file no longer says what runs. It carries the unit's InvocationID, which changes at
/// every start, so it is believed only for the invocation it was kept for.
struct Started {
    path: PathBuf,
    invocation: String,
}

impl Started {
    fn read(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let (first, rest) = text.split_once('\n')?;
        let matches = !self.invocation.is_empty()
            && first.strip_prefix("InvocationID=") == Some(self.invocation.as_str());
        matches.then(|| rest.to_owned())
    }

    fn keep(&self, unit: &str) -> Result<(), Error> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        }
        let text = format!("InvocationID={}\n{unit}", self.invocation);
        output::write_atomically(&self.path, text.as_bytes())
    }
}

fn restart(bus: &mut Bus, unit: &str) -> Result<(), Error> {
    let job = bus
        .restart_unit(unit)
        .map_err(|e| e.during(format!("{unit} is rewritten, but restarting it failed")))?;
    bus.wait(&job, unit)
}

/// 1 if a change failed (and no restart applied it), [`EXIT_RESTART_NEEDED`] if a restart is
/// still needed, else 0.
fn exit_code(report: &Report) -> u8 {
    let failed = report
        .fields
        .iter()
        .any(|f| f.outcome == Some(Outcome::Failed));
    match (failed, report.restart_needed, report.restarted) {
        (_, _, true) => 0,
        (true, _, false) => 1,
        (false, true, false) => EXIT_RESTART_NEEDED,
        (false, false, false) => 0,
    }
}

/// Compares the new plan with a running unit: `live` reads a property from the manager,
/// `leaf` a file of the payload's leaf cgroup, `new` are the plan's start-time settings.
fn classify(
    plan: &Plan,
    running: &Running,
    new: &BTreeMap<String, Vec<String>>,
    old_config: Option<&str>,
    live: impl Fn(&PropertySpec) -> Option<DbusValue>,
    leaf: impl Fn(&str) -> Option<String>,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    for spec in limits() {
        let new = plan
            .properties()
            .filter(|p| p.key == spec.key)
            .last()
            .map(|p| p.dbus[0].value.clone());
        if new.is_none() && !running.keys.contains(spec.key) {
            continue;
        }
        let old = live(spec);
        // systemd's default comes back at the next start: a reload of the unit file changes
        // the unit's property but not its cgroup, and nothing rewrites a transient unit.
        let Some(new) = new else {
            planned.push(Planned::new(Field {
                name: spec.key.to_owned(),
                place: Place::Systemd,
                old: old.as_ref().map(|value| shown(spec, value)),
                new: None,
                change: Change::Restart,
                outcome: None,
                error: None,
            }));
            continue;
        };
        let same = old.as_ref().is_some_and(|old| same_live(old, &new));
        let tighter = match (&old, &new) {
            (Some(DbusValue::U64(old)), DbusValue::U64(new)) if old != new => Some(new < old),
            _ => None,
        };
        planned.push(Planned {
            field: Field::live_or_unchanged(
                spec.key.to_owned(),
                Place::Systemd,
                old.as_ref().map(|value| shown(spec, value)),
                Some(shown(spec, &new)),
                same,
            ),
            action: (!same).then_some(Action::Property(spec, new)),
            tighter,
        });
    }
    let (launch, _) = plan.launch_spec(Spawner::Systemd);
    for write in &launch.writes {
        let file = write.file.as_str();
        let current = leaf(file);
        let value = write.value.trim();
        let same = current
            .as_deref()
            .is_some_and(|current| holds(file, value, current));
        planned.push(Planned {
            field: Field::live_or_unchanged(
                format!("{}/{file}", plan.leaf),
                Place::Leaf,
                current.clone(),
                Some(value.to_owned()),
                same,
            ),
            action: (!same).then(|| Action::Leaf(write.clone())),
            tighter: current.and_then(|old| tighter(&old, value)),
        });
    }
    for file in &running.writes {
        if !launch.writes.iter().any(|w| w.file.as_str() == file) {
            planned.push(Planned::new(Field {
                name: format!("{}/{file}", plan.leaf),
                place: Place::Leaf,
                old: leaf(file),
                new: None,
                change: Change::Restart,
                outcome: None,
                error: None,
            }));
        }
    }
    planned.extend(differences(&running.settings, new, Change::Restart));
    planned.extend(config_field(old_config, plan, Change::Restart));
    planned
}

/// For a unit that is not running, every difference is for its next start.
fn not_running(installed: &str, text: &str, old_config: Option<&str>, plan: &Plan) -> Vec<Planned> {
    let (old, new) = (
        start_settings(installed, false),
        start_settings(text, false),
    );
    let mut planned = differences(&old, &new, Change::NextStart);
    planned.extend(config_field(old_config, plan, Change::NextStart));
    planned
}

/// Tightenings first, then the changes that are neither, then the loosenings: at no moment is a
/// limit looser than both the old and the new value would have it. Lowering, `memory.high`
/// goes before `memory.max`, so the kernel reclaims and throttles before it kills; raising,
/// after, so that at no step is `high` above `max`.
fn order(planned: &mut [Planned]) {
    let rank = |p: &Planned| {
        let name = p.field.name.rsplit('/').next().unwrap_or_default();
        let soft = matches!(name, "MemoryHigh" | "memory.high");
        let hard = matches!(name, "MemoryMax" | "memory.max");
        let (group, within) = match p.tighter {
            Some(true) => (
                0,
                if soft {
                    0
                } else if hard {
                    2
                } else {
                    1
                },
            ),
            None => (1, 1),
            Some(false) => (
                2,
                if hard {
                    0
                } else if soft {
                    2
                } else {
                    1
                },
            ),
        };
        (p.field.place, group, within)
    };
    planned.sort_by_key(rank);
}

/// Whether `new` (a leaf file's syntax) is tighter than `old`; `None` if they are not limits
/// of one kind.
fn tighter(old: &str, new: &str) -> Option<bool> {
    if let (Some(old), Some(new)) = (Limit::parse_cgroup(old), Limit::parse_cgroup(new)) {
        return (old != new).then(|| new.dbus() < old.dbus());
    }
    let (old, new) = (CpuMax::parse_cgroup(old)?, CpuMax::parse_cgroup(new)?);
    // quota/period compared without dividing.
    let share = |max: CpuMax| (u128::from(max.quota.dbus()), u128::from(max.period));
    let ((old_quota, old_period), (new_quota, new_period)) = (share(old), share(new));
    let (old, new) = (old_quota * new_period, new_quota * old_period);
    (old != new).then_some(new < old)
}

/// Two live values are the same limit (a CPU mask may have trailing zero bytes).
fn same_live(a: &DbusValue, b: &DbusValue) -> bool {
    match (a, b) {
        (DbusValue::Bytes(a), DbusValue::Bytes(b)) => {
            CpuSet::decode(a).list() == CpuSet::decode(b).list()
        }
        _ => a == b,
    }
}

/// Whether a leaf file reading `current` holds `written`: the same text, or the number the
/// kernel rounded it down to (`memory.*` to pages, `hugetlb.SIZE.*` to huge pages).
fn holds(file: &str, written: &str, current: &str) -> bool {
    if written == current {
        return true;
    }
    let granule = match file.split('.').collect::<Vec<_>>()[..] {
        ["memory", ..] => rustix::param::page_size() as u64,
        ["hugetlb", size, ..] => huge_page_bytes(size).unwrap_or(1),
        _ => 1,
    };
    match (written.parse::<u64>(), current.parse::<u64>()) {
        (Ok(written), Ok(current)) => current == written - written % granule,
        _ => false,
    }
}

/// `2MB` → 2 MiB, as hugetlb names its files.
fn huge_page_bytes(size: &str) -> Option<u64> {
    let split = size.find(|c: char| !c.is_ascii_digit())?;
    let shift = match &size[split..] {
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        _ => return None,
    };
    size[..split].parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// The launcher writes of a unit file, by file: the line as written.
fn written(unit: &str) -> BTreeMap<String, String> {
    exec_options(unit)
        .filter(|line| line.starts_with("--write "))
        .filter_map(|line| {
            let arg = line["--write ".len()..].trim_start_matches(['"', '\'']);
            let (file, _) = arg.split_once('=')?;
            Some((file.to_owned(), line.to_owned()))
        })
        .collect()
}

/// The launcher options of the unit's `ExecStart=`, one per continuation line as the
/// compiler writes them.
fn exec_options(unit: &str) -> impl Iterator<Item = &str> {
    let mut in_exec = false;
    unit.lines().filter_map(move |line| {
        if line.starts_with("ExecStart=") {
            in_exec = line.ends_with('\\');
            return None;
        }
        if !in_exec {
            return None;
        }
        in_exec = line.ends_with('\\');
        Some(line.trim().trim_end_matches('\\').trim_end())
    })
}

/// The `[Service]` keys of a unit file.
fn service_keys(unit: &str) -> BTreeSet<&str> {
    settings(unit)
        .into_iter()
        .filter(|(section, _, _)| *section == "[Service]")
        .map(|(_, key, _)| key)
        .collect()
}

/// (section, key, value) of each setting line, continuation lines not included.
fn settings(unit: &str) -> Vec<(&str, &str, &str)> {
    let mut section = "";
    let mut continued = false;
    let mut out = Vec::new();
    for line in unit.lines() {
        let was_continued = continued;
        continued = line.ends_with('\\');
        if was_continued || line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line.trim();
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            out.push((section, key.trim(), value.trim_end_matches('\\').trim_end()));
        }
    }
    out
}

/// What the process was started with, by setting: the `[Service]` lines (without the limits
/// applied live, when `live_apart`), the launcher's options but its cgroup writes, and the
/// runtime's version.
fn start_settings(unit: &str, live_apart: bool) -> BTreeMap<String, Vec<String>> {
    let live: BTreeSet<&str> = match live_apart {
        true => limits().map(|spec| spec.key).collect(),
        false => BTreeSet::new(),
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (section, key, value) in settings(unit) {
        let kept = match section {
            "[Service]" => !live.contains(key),
            "[X-Ociunit]" => key == "Runtime",
            _ => false,
        };
        if kept {
            out.entry(key.to_owned())
                .or_default()
                .push(value.to_owned());
        }
    }
    for option in exec_options(unit) {
        let (name, value) = option.split_once(' ').unwrap_or((option, ""));
        if live_apart && matches!(name, "--write" | "--controllers") {
            continue;
        }
        out.entry(format!("ExecStart {name}"))
            .or_default()
            .push(value.to_owned());
    }
    out
}

/// The start-time settings that differ between what runs (or is installed) and the new plan.
fn differences(
    old: &BTreeMap<String, Vec<String>>,
    new: &BTreeMap<String, Vec<String>>,
    change: Change,
) -> Vec<Planned> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|key| old.get(*key) != new.get(*key))
        .map(|key| {
            Planned::new(Field {
                name: key.clone(),
                place: Place::Start,
                old: old.get(key).map(|values| values.join("\n")),
                new: new.get(key).map(|values| values.join("\n")),
                change,
                outcome: None,
                error: None,
            })
        })
        .collect()
}

/// In container mode, whether the runtime's config changed beyond `linux.resources` (the
/// limits, which reach the container's cgroup through the leaf instead).
fn config_field(old: Option<&str>, plan: &Plan, change: Change) -> Option<Planned> {
    let container = plan.container.as_ref()?;
    let without_resources = |text: &str| {
        let mut config: serde_json::Value = serde_json::from_str(text).ok()?;
        if let Some(linux) = config.get_mut("linux").and_then(|l| l.as_object_mut()) {
            linux.remove("resources");
        }
        Some(config)
    };
    let new = container.config_text();
    let old = old.unwrap_or_default();
    (without_resources(old) != without_resources(&new)).then(|| {
        Planned::new(Field {
            name: "runtime config".to_owned(),
            place: Place::Start,
            old: None,
            new: Some(
                container
                    .config_dir
                    .join("config.json")
                    .display()
                    .to_string(),
            ),
            change,
            outcome: None,
            error: None,
        })
    })
}

/// The report as text: one line per field, then what remains to do.
pub fn text(report: &Report, manager_kind: crate::target::Manager) -> String {
    let mut text = String::new();
    let state = match report.active {
        true => format!("active, main PID {}", report.main_pid),
        false => "not running".to_owned(),
    };
    let _ = writeln!(text, "{} ({state}):", report.unit);
    let shown = |value: &Option<String>| match value {
        Some(value) => value.replace('\n', " "),
        None => "(none)".to_owned(),
    };
    for field in &report.fields {
        let label = match (field.change, field.outcome, report.dry_run) {
            (Change::Unchanged, ..) => "unchanged",
            (Change::Live, _, true) => "would change live",
            (Change::Live, Some(Outcome::Applied), _) => "changed live",
            (Change::Live, Some(Outcome::Failed), _) => "FAILED",
            (Change::Live, Some(Outcome::NotApplied), _) => "not applied",
            (Change::Live, Some(Outcome::Restarted), _) => "restart applied",
            (Change::Restart, Some(Outcome::Restarted), _) => "restart applied",
            (Change::Restart, ..) => "needs a restart",
            (Change::NextStart, ..) => "next start",
            (Change::Live, None, false) => "changed live",
        };
        let value = match field.change {
            Change::Unchanged => shown(&field.new),
            _ => format!("{} → {}", shown(&field.old), shown(&field.new)),
        };
        let _ = writeln!(text, "  {label:<18} {:<24} {value}", field.name);
        if let Some(error) = &field.error {
            let _ = writeln!(text, "  {:<18} {:<24} {error}", "", "");
        }
    }
    let restarts = report
        .fields
        .iter()
        .filter(|f| f.change == Change::Restart)
        .count();
    let live = report
        .fields
        .iter()
        .filter(|f| f.change == Change::Live)
        .count();
    let summary = if report.restarted {
        format!("restarted {}", report.unit)
    } else if report.restart_needed && report.transient {
        format!(
            "{} needs a restart: a transient unit restarts with the definition it was started \
             with; stop it and `ociunit run --service` the bundle again",
            report.unit
        )
    } else if report.restart_needed {
        format!(
            "{} needs a restart: ociunit apply --restart, or {} restart {}",
            report.unit,
            super::systemctl(manager_kind),
            report.unit
        )
    } else if !report.active {
        "the unit is not running: the new unit file applies when it starts".to_owned()
    } else if live == 0 && restarts == 0 {
        "nothing to change".to_owned()
    } else if report.dry_run {
        "every change can be applied live".to_owned()
    } else {
        "every change applied live".to_owned()
    };
    let _ = writeln!(text, "{summary}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(resources: &str, args: &str) -> (Plan, String) {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("web");
        std::fs::create_dir(&bundle).unwrap();
        std::fs::write(
            bundle.join("config.json"),
            format!(
                r#"{{"ociVersion":"1.0.2","process":{{"args":{args},"cwd":"/","env":["A=1"],
                "user":{{"uid":1000,"gid":1000}}}},"root":{{"path":"/"}},
                "linux":{{"resources":{resources}}}}}"#
            ),
        )
        .unwrap();
        let request = Request {
            runtime: crate::runtime::Choice::None,
            ..Request::new(Target {
                manager: crate::target::Manager::User,
                systemd: 257,
            })
        };
        let context = Context {
            manager_uid: 1000,
            ..Context::installed(&request)
        };
        let bundle = crate::bundle::Bundle::load(&bundle).unwrap();
        let (plan, _) = compile::with_warnings(&bundle, &request, &context).unwrap();
        let text = unit::render(&plan, Path::new("/usr/libexec/ociunit-launch")).unwrap();
        (plan, text)
    }

    fn classify_installed(
        plan: &Plan,
        installed: &str,
        started: &str,
        text: &str,
        live: impl Fn(&PropertySpec) -> Option<DbusValue>,
        leaf: impl Fn(&str) -> Option<String>,
    ) -> Vec<Planned> {
        let running = Running::installed(installed, started);
        let new = start_settings(text, true);
        classify(plan, &running, &new, None, live, leaf)
    }

    /// The start-time settings that differ.
    fn at_start(planned: &[Planned]) -> Vec<&str> {
        planned
            .iter()
            .filter(|p| p.field.place == Place::Start)
            .map(|p| p.field.name.as_str())
            .collect()
    }

    fn field<'a>(planned: &'a [Planned], name: &str) -> &'a Field {
        &planned
            .iter()
            .find(|p| p.field.name == name)
            .unwrap_or_else(|| panic!("no {name} in {planned:#?}"))
            .field
    }

    #[test]
    fn limits_change_live_and_the_command_line_needs_a_restart() {
        let resources = r#"{"memory":{"limit":268435456},"pids":{"limit":64},
            "cpu":{"quota":12345,"period":100000}}"#;
        let (plan, text) = plan_of(resources, r#"["/bin/sleep","700"]"#);
        let old = r#"{"memory":{"limit":536870912},"pids":{"limit":64},
            "cpu":{"quota":50000,"period":100000}}"#;
        let (_, installed) = plan_of(old, r#"["/bin/sleep","600"]"#);
        let live = |spec: &PropertySpec| match spec.key {
            "MemoryMax" => Some(DbusValue::U64(536_870_912)),
            "TasksMax" => Some(DbusValue::U64(64)),
            "CPUQuota" => Some(DbusValue::U64(500_000)),
            _ => None,
        };
        let leaf = |file: &str| match file {
            "memory.max" => Some("536870912".to_owned()),
            "pids.max" => Some("64".to_owned()),
            "cpu.max" => Some("50000 100000".to_owned()),
            _ => None,
        };
        let mut planned = classify_installed(&plan, &installed, &installed, &text, live, leaf);
        order(&mut planned);
        let memory = field(&planned, "MemoryMax");
        assert_eq!(
            (memory.change, memory.new.as_deref()),
            (Change::Live, Some("268435456 (256.0M)"))
        );
        assert_eq!(field(&planned, "TasksMax").change, Change::Unchanged);
        assert_eq!(field(&planned, "CPUQuota").new.as_deref(), Some("12.35%"));
        let cpu_max = field(&planned, "payload/cpu.max");
        assert_eq!(
            (
                cpu_max.change,
                cpu_max.old.as_deref(),
                cpu_max.new.as_deref()
            ),
            (Change::Live, Some("50000 100000"), Some("12345 100000"))
        );
        assert_eq!(
            field(&planned, "payload/pids.max").change,
            Change::Unchanged
        );
        let args = field(&planned, "ExecStart --");
        assert_eq!(
            (args.change, args.old.as_deref(), args.new.as_deref()),
            (
                Change::Restart,
                Some("/bin/sleep 600"),
                Some("/bin/sleep 700")
            )
        );
        assert!(
            planned
                .iter()
                .all(|p| !p.field.name.starts_with("ExecStart --write")
                    && p.field.name != "ExecStart --controllers"
                    && p.field.name != "MemoryMax"
                    || p.field.place != Place::Start),
            "{planned:#?}"
        );
        assert_eq!(
            at_start(&planned),
            ["ExecStart --"],
            "only the command line"
        );
    }

    #[test]
    fn a_write_the_bundle_dropped_waits_for_a_restart() {
        let (plan, text) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","600"]"#);
        let old = r#"{"memory":{"limit":536870912},"pids":{"limit":64}}"#;
        let (_, installed) = plan_of(old, r#"["/bin/sleep","600"]"#);
        let planned = classify_installed(
            &plan,
            &installed,
            &installed,
            &text,
            |spec| (spec.key == "MemoryMax").then_some(DbusValue::U64(536_870_912)),
            |file| (file == "memory.max").then(|| "536870912".to_owned()),
        );
        let systemd = field(&planned, "MemoryMax");
        assert_eq!(
            (systemd.change, systemd.new.as_deref()),
            (Change::Restart, None)
        );
        let leaf = field(&planned, "payload/memory.max");
        assert_eq!((leaf.change, leaf.new.as_deref()), (Change::Restart, None));
    }

    /// A transient service: what runs is its ExecStart and properties; a limit the bundle dropped
    /// stays until it is started anew, and a changed command line needs a restart.
    #[test]
    fn a_transient_service_keeps_a_dropped_limit_and_compares_its_command_line() {
        let launcher = "/usr/libexec/ociunit-launch";
        let settings = |plan: &Plan| {
            let properties = transient_properties(plan, Path::new(launcher))
                .map(|p| (p.name.to_owned(), systemd::to_value(&p).to_string()));
            transient_settings(launcher, plan.launch_spec(Spawner::Systemd).0, properties)
        };
        let (old_plan, _) = plan_of(
            r#"{"memory":{"limit":536870912},"pids":{"limit":64}}"#,
            r#"["/bin/sleep","600"]"#,
        );
        let (plan, _) = plan_of(r#"{"pids":{"limit":32}}"#, r#"["/bin/sleep","601"]"#);
        let running = Running {
            keys: ["MemoryMax", "TasksMax"].map(str::to_owned).into(),
            writes: ["memory.max", "pids.max"].map(str::to_owned).into(),
            settings: settings(&old_plan),
        };
        let live = |spec: &PropertySpec| match spec.key {
            "MemoryMax" => Some(DbusValue::U64(536_870_912)),
            "TasksMax" => Some(DbusValue::U64(64)),
            _ => None,
        };
        let planned = classify(&plan, &running, &settings(&plan), None, live, |file| {
            (file == "pids.max").then(|| "64".to_owned())
        });
        let memory = field(&planned, "MemoryMax");
        assert_eq!(
            (memory.change, memory.new.as_deref()),
            (Change::Restart, None)
        );
        assert_eq!(field(&planned, "TasksMax").change, Change::Live);
        assert_eq!(field(&planned, "payload/pids.max").change, Change::Live);
        assert_eq!(
            field(&planned, "payload/memory.max").change,
            Change::Restart
        );
        let args = field(&planned, "ExecStart --");
        assert_eq!(
            (args.change, args.new.as_deref()),
            (Change::Restart, Some("/bin/sleep 601"))
        );
        assert_eq!(
            at_start(&planned),
            ["ExecStart --"],
            "only the command line"
        );
    }

    #[test]
    fn kernel_rounding_is_not_a_change() {
        let (plan, text) = plan_of(r#"{"memory":{"limit":1000000000}}"#, r#"["/bin/true"]"#);
        let planned = classify_installed(
            &plan,
            &text,
            &text,
            &text,
            |spec| (spec.key == "MemoryMax").then_some(DbusValue::U64(1_000_000_000)),
            |file| (file == "memory.max").then(|| "999997440".to_owned()),
        );
        assert!(
            planned.iter().all(|p| p.field.change == Change::Unchanged),
            "{planned:#?}"
        );
    }

    /// After an apply that left a restart pending, the installed unit is the new one; what
    /// runs is still what the kept unit says.
    #[test]
    fn a_restart_stays_needed_until_the_unit_restarts() {
        let (_, started) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","600"]"#);
        let (plan, text) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","601"]"#);
        let planned = classify_installed(&plan, &text, &started, &text, |_| None, |_| None);
        assert_eq!(field(&planned, "ExecStart --").change, Change::Restart);
    }

    #[test]
    fn rounded_values_are_held() {
        let page = rustix::param::page_size() as u64;
        assert!(holds(
            "memory.max",
            "1000000000",
            &(1_000_000_000 - 1_000_000_000 % page).to_string()
        ));
        assert!(!holds("memory.max", "1000000000", "999000000"));
        assert!(holds("hugetlb.2MB.max", "3145728", "2097152"));
        assert!(!holds("pids.max", "100", "99"));
        assert!(holds("cpu.max", "12345 100000", "12345 100000"));
    }

    fn step(name: &str, place: Place, tighter: Option<bool>) -> Planned {
        Planned {
            tighter,
            ..Planned::new(Field {
                name: name.to_owned(),
                place,
                old: None,
                new: None,
                change: Change::Live,
                outcome: None,
                error: None,
            })
        }
    }

    fn ordered(steps: Vec<Planned>) -> Vec<String> {
        let mut steps = steps;
        order(&mut steps);
        steps.into_iter().map(|p| p.field.name).collect()
    }

    #[test]
    fn lowering_writes_high_before_max_and_raising_max_before_high() {
        let lowering = ordered(vec![
            step("payload/memory.max", Place::Leaf, Some(true)),
            step("payload/memory.high", Place::Leaf, Some(true)),
            step("MemoryMax", Place::Systemd, Some(true)),
            step("MemoryHigh", Place::Systemd, Some(true)),
        ]);
        assert_eq!(
            lowering,
            [
                "MemoryHigh",
                "MemoryMax",
                "payload/memory.high",
                "payload/memory.max"
            ]
        );
        let raising = ordered(vec![
            step("payload/memory.high", Place::Leaf, Some(false)),
            step("payload/memory.max", Place::Leaf, Some(false)),
        ]);
        assert_eq!(raising, ["payload/memory.max", "payload/memory.high"]);
        let mixed = ordered(vec![
            step("payload/pids.max", Place::Leaf, Some(false)),
            step("payload/cpu.weight", Place::Leaf, None),
            step("payload/cpu.max", Place::Leaf, Some(true)),
        ]);
        assert_eq!(
            mixed,
            ["payload/cpu.max", "payload/cpu.weight", "payload/pids.max"],
            "tightenings first, loosenings last"
        );
    }

    #[test]
    fn which_value_is_tighter() {
        assert_eq!(tighter("max", "100"), Some(true));
        assert_eq!(tighter("100", "max"), Some(false));
        assert_eq!(tighter("100", "100"), None);
        assert_eq!(tighter("50000 100000", "12345 100000"), Some(true));
        assert_eq!(tighter("50000 100000", "max 100000"), Some(false));
        assert_eq!(
            tighter("10000 20000", "50000 100000"),
            None,
            "the same share"
        );
        assert_eq!(tighter("default 100", "default 200"), None);
    }

    #[test]
    fn exit_codes() {
        let report = |change, outcome, restarted| {
            let mut report = Report {
                format: FORMAT,
                unit: "web.service".into(),
                dry_run: false,
                active: true,
                transient: false,
                main_pid: 1,
                fields: vec![Field {
                    name: "x".into(),
                    place: Place::Leaf,
                    old: None,
                    new: None,
                    change,
                    outcome,
                    error: None,
                }],
                restart_needed: false,
                restarted,
            };
            report.restart_needed = change == Change::Restart
                || matches!(outcome, Some(Outcome::Failed | Outcome::NotApplied));
            exit_code(&report)
        };
        assert_eq!(report(Change::Live, Some(Outcome::Applied), false), 0);
        assert_eq!(report(Change::Unchanged, None, false), 0);
        assert_eq!(report(Change::Restart, None, false), 3);
        assert_eq!(report(Change::Live, Some(Outcome::Failed), false), 1);
        assert_eq!(report(Change::Restart, Some(Outcome::Restarted), true), 0);
        assert_eq!(report(Change::NextStart, Some(Outcome::Applied), false), 0);
    }
}
