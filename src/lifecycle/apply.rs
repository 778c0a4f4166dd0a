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

use crate::compile::{self, Request};
use crate::error::Error;
use crate::launch::cgroup::Tree;
use crate::launch::grammar::CgroupWrite;
use crate::manager;
use crate::output;
use crate::plan::property::{DbusValue, PropertySpec};
use crate::plan::value::{CpuMax, CpuSet, Limit};
use crate::plan::{Plan, Spawner};
use crate::render::unit;

use super::status::{limits, read_live, shown};

/// The `--json` document's format; a change to its shape changes the string.
pub const FORMAT: &str = "ociunit-apply/1";
/// Exit status when a change was written to the unit but takes effect only at the next start.
pub const EXIT_RESTART_NEEDED: u8 = 3;

const CGROUP_MOUNT: &str = "/sys/fs/cgroup";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SERVICE: &str = "org.freedesktop.systemd1.Service";

#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub bundle: PathBuf,
    pub request: Request,
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
    pub main_pid: u32,
    pub fields: Vec<Field>,
    /// Some change is in the unit file but not in the running unit.
    pub restart_needed: bool,
    pub restarted: bool,
}

/// How a live change is made.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    /// `SetUnitProperties`, unless the reload already applied it; `None`: the bundle no longer
    /// sets it, and the reload put systemd's default back.
    Property(&'static PropertySpec, Option<DbusValue>),
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
pub fn apply(apply: &ApplyRequest) -> Result<(Report, u8), Error> {
    let plan = compile::compile(&apply.bundle, &apply.request)?;
    let text = unit::render(&plan, &apply.launcher)?;
    let manager_kind = apply.request.target.manager;
    let dir = super::unit_dir(manager_kind, apply.unit_dir.as_deref())?;
    let path = dir.join(&plan.unit);
    let not_installed = || {
        Error::Host(format!(
            "{}: not installed ({} does not exist); `ociunit install` it first (apply does not \
             change transient units started by `ociunit run`)",
            plan.unit,
            path.display()
        ))
    };
    // Held from reading the installed unit to the reload, so that what is compared is what is
    // replaced; a dry run holds it too, to compare against a whole install.
    let lock = match dir.is_dir() {
        true => output::lock_dir(&dir)?,
        false => return Err(not_installed()),
    };
    let previous = output::read_unit(&path)?.ok_or_else(not_installed)?;
    let installed = String::from_utf8_lossy(&previous).into_owned();
    let connection = manager::connect(manager_kind)?;
    let proxy = manager::proxy(&connection)?;
    let object = proxy
        .load_unit(&plan.unit)
        .map_err(|e| manager::call_error(&format!("loading {}", plan.unit), &e))?;
    let interfaces = manager::unit_interface(&connection, &object, UNIT)
        .and_then(|u| Ok((u, manager::unit_interface(&connection, &object, SERVICE)?)));
    let (unit_iface, service) =
        interfaces.map_err(|e| manager::call_error(&format!("reading {}", plan.unit), &e))?;
    let state = unit_iface
        .get_property::<String>("ActiveState")
        .unwrap_or_default();
    let active = matches!(state.as_str(), "active" | "reloading");
    let cgroup = service
        .get_property::<String>("ControlGroup")
        .unwrap_or_default();
    let main_pid = service.get_property::<u32>("MainPID").unwrap_or(0);
    let tree = match active {
        true => Some(Tree::open(Path::new(CGROUP_MOUNT), &cgroup, &plan.leaf)),
        false => None,
    };
    let invocation = unit_iface
        .get_property::<Vec<u8>>("InvocationID")
        .map(|id| crate::bundle::hex(&id))
        .unwrap_or_default();
    let state_dir = match &apply.request.container.home {
        compile::ConfigHome::Persistent(Some(dir)) => dir.clone(),
        _ => compile::default_state_dir(manager_kind)?,
    };
    let started = Started {
        path: state_dir.join("started").join(&plan.unit),
        invocation,
    };
    let kept = match active {
        true => started.read(),
        false => None,
    };
    let started_text = kept.as_deref().unwrap_or(&installed);
    let old_config = plan
        .container
        .as_ref()
        .map(|c| std::fs::read_to_string(c.config_dir.join("config.json")).unwrap_or_default());
    let mut planned = match active {
        true => classify(
            &plan,
            &installed,
            started_text,
            &text,
            old_config.as_deref(),
            |spec| read_live(&service, spec),
            |file| tree.as_ref()?.as_ref().ok()?.read(file),
        ),
        false => not_running(&installed, &text, old_config.as_deref(), &plan),
    };
    order(&mut planned);
    let mut report = Report {
        format: FORMAT,
        unit: plan.unit.clone(),
        dry_run: apply.dry_run,
        active,
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

    super::install::write_and_reload(
        &lock,
        &proxy,
        &plan,
        &path,
        &text,
        Some(&previous),
        apply.force,
    )?;
    if active && kept.is_none() && installed != text {
        if let Err(err) = started.keep(&installed) {
            eprintln!(
                "ociunit: warning: cannot keep the unit the running {} started from ({err}): \
                 the next apply compares the start-time settings with the new unit file",
                plan.unit
            );
        }
    }
    let (launch, _) = plan.launch_spec(Spawner::Systemd);
    let mut failed = false;
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
                let now = read_live(&service, spec);
                match new {
                    None => {
                        step.field.new = now.map(|value| shown(spec, &value));
                        Ok(())
                    }
                    Some(new) if now.as_ref().is_some_and(|now| same_live(now, new)) => Ok(()),
                    Some(new) => {
                        let property =
                            crate::plan::property::DbusProperty::new(spec.dbus[0].0, new.clone());
                        // runtime: the unit file carries the value now; a persistent control
                        // drop-in would override every later install.
                        proxy
                            .set_unit_properties(
                                &plan.unit,
                                true,
                                vec![(property.name, manager::to_value(&property))],
                            )
                            .map_err(|e| {
                                manager::call_error(&format!("SetUnitProperties {}", spec.key), &e)
                                    .to_string()
                            })
                    }
                }
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
    report.fields = planned.into_iter().map(|p| p.field).collect();
    report.restart_needed = report.fields.iter().any(|f| {
        f.change == Change::Restart
            || matches!(f.outcome, Some(Outcome::Failed | Outcome::NotApplied))
    });
    if report.restart_needed && apply.restart {
        restart(&connection, &proxy, &plan.unit, manager_kind)?;
        report.restarted = true;
        for field in &mut report.fields {
            let waiting = field.change == Change::Restart
                || matches!(field.outcome, Some(Outcome::Failed | Outcome::NotApplied));
            if waiting {
                field.outcome = Some(Outcome::Restarted);
            }
        }
        report.main_pid = service.get_property::<u32>("MainPID").unwrap_or(0);
    }
    let code = exit_code(&report);
    Ok((report, code))
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
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, &e))?;
        }
        let text = format!("InvocationID={}\n{unit}", self.invocation);
        output::write_atomically(&self.path, text.as_bytes())
    }
}

fn restart(
    connection: &zbus::blocking::Connection,
    proxy: &manager::ManagerProxy,
    unit: &str,
    manager_kind: crate::target::Manager,
) -> Result<(), Error> {
    let mut jobs = manager::jobs(connection)?;
    let job = proxy.restart_unit(unit, "replace").map_err(|e| {
        manager::call_error(
            &format!("{unit} is rewritten, but restarting it failed"),
            &e,
        )
    })?;
    match manager::job_result(&mut jobs, &job).as_deref() {
        Some("done") => Ok(()),
        result => Err(Error::Host(format!(
            "{unit} is rewritten, but its restart job ended with {:?}; see {} status {unit}",
            result.unwrap_or("no result"),
            super::systemctl(manager_kind),
        ))),
    }
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
/// `leaf` a file of the payload's leaf cgroup, `started` is the unit file the running process
/// was started from (the installed one, unless an earlier `apply` rewrote it since).
fn classify(
    plan: &Plan,
    installed: &str,
    started: &str,
    text: &str,
    old_config: Option<&str>,
    live: impl Fn(&PropertySpec) -> Option<DbusValue>,
    leaf: impl Fn(&str) -> Option<String>,
) -> Vec<Planned> {
    let old_keys = service_keys(installed);
    let mut planned = Vec::new();
    for spec in limits() {
        let new = plan
            .properties()
            .filter(|p| p.key == spec.key)
            .last()
            .map(|p| p.dbus[0].value.clone());
        if new.is_none() && !old_keys.contains(spec.key) {
            continue;
        }
        let old = live(spec);
        let same = match (&old, &new) {
            (Some(old), Some(new)) => same_live(old, new),
            _ => false,
        };
        let tighter = match (&old, &new) {
            (Some(DbusValue::U64(old)), Some(DbusValue::U64(new))) if old != new => Some(new < old),
            _ => None,
        };
        planned.push(Planned {
            field: Field::live_or_unchanged(
                spec.key.to_owned(),
                Place::Systemd,
                old.as_ref().map(|value| shown(spec, value)),
                new.as_ref().map(|value| shown(spec, value)),
                same,
            ),
            action: (!same).then_some(Action::Property(spec, new)),
            tighter,
        });
    }
    let mut old_writes = written(started);
    old_writes.extend(written(installed));
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
    for file in old_writes.keys() {
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
    planned.extend(start_fields(started, text, Change::Restart, true));
    planned.extend(config_field(old_config, plan, Change::Restart));
    planned
}

/// For a unit that is not running, every difference is for its next start.
fn not_running(installed: &str, text: &str, old_config: Option<&str>, plan: &Plan) -> Vec<Planned> {
    let mut planned = start_fields(installed, text, Change::NextStart, false);
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

/// The start-time settings that differ between the installed unit and the new one.
fn start_fields(installed: &str, text: &str, change: Change, live_apart: bool) -> Vec<Planned> {
    let (old, new) = (
        start_settings(installed, live_apart),
        start_settings(text, live_apart),
    );
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
            name: None,
            target: crate::target::Target {
                manager: crate::target::Manager::User,
                systemd: 257,
            },
            best_effort: false,
            manager_uid: 1000,
            container: compile::ContainerRequest {
                runtime: crate::runtime::Choice::None,
                ..Default::default()
            },
            strict: false,
            quiet: true,
            overrides: Vec::new(),
        };
        let plan = compile::compile(&bundle, &request).unwrap();
        let text = unit::render(&plan, Path::new("/usr/libexec/ociunit-launch")).unwrap();
        (plan, text)
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
        let mut planned = classify(&plan, &installed, &installed, &text, None, live, leaf);
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
            planned
                .iter()
                .filter(|p| p.field.place == Place::Start)
                .count(),
            1,
            "only the command line differs at start: {planned:#?}"
        );
    }

    #[test]
    fn a_write_the_bundle_dropped_waits_for_a_restart() {
        let (plan, text) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","600"]"#);
        let old = r#"{"memory":{"limit":536870912},"pids":{"limit":64}}"#;
        let (_, installed) = plan_of(old, r#"["/bin/sleep","600"]"#);
        let planned = classify(
            &plan,
            &installed,
            &installed,
            &text,
            None,
            |spec| (spec.key == "MemoryMax").then_some(DbusValue::U64(536_870_912)),
            |file| (file == "memory.max").then(|| "536870912".to_owned()),
        );
        let systemd = field(&planned, "MemoryMax");
        assert_eq!(
            (systemd.change, systemd.new.as_deref()),
            (Change::Live, None)
        );
        let leaf = field(&planned, "payload/memory.max");
        assert_eq!((leaf.change, leaf.new.as_deref()), (Change::Restart, None));
    }

    #[test]
    fn kernel_rounding_is_not_a_change() {
        let (plan, text) = plan_of(r#"{"memory":{"limit":1000000000}}"#, r#"["/bin/true"]"#);
        let planned = classify(
            &plan,
            &text,
            &text,
            &text,
            None,
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
        let planned = classify(&plan, &text, &started, &text, None, |_| None, |_| None);
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
