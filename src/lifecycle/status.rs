//! `ociunit status`: one screen with the unit's state, its limits as systemd reports them, the
//! limits the payload's own cgroup holds, and current usage.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::cgroupfs::Mount;
use crate::cgroupfs::tree::Tree;
use crate::error::Error;
use crate::plan::DEFAULT_LEAF;
use crate::plan::property::{ALL, DbusValue, Kind, PropertySpec};
use crate::plan::value::{CpuMax, CpuSet, Limit};
use crate::systemd::{Bus, Properties, Via};
use crate::target::Manager;

/// Usage counters, by D-Bus name; all are `t`, `u64::MAX` when not available.
const USAGE: [&str; 4] = [
    "MemoryCurrent",
    "MemoryPeak",
    "TasksCurrent",
    "CPUUsageNSec",
];
/// The limits worth showing, and those `apply` changes over D-Bus: the table's cgroup
/// properties that hold one value (not a list of devices).
pub(crate) fn limits() -> impl Iterator<Item = &'static PropertySpec> {
    ALL.iter()
        .copied()
        .filter(|spec| spec.live && spec.kind != Kind::Other)
}

/// The `--json` document's format; a change to its shape changes the string.
pub const FORMAT: &str = "ociunit-status/1";

/// A unit as its manager and its payload's cgroup see it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub unit: String,
    #[serde(skip)]
    pub manager: Manager,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub fragment_path: String,
    /// How the main process of the last run ended; `None` while it runs, before it ran, and
    /// once the manager unloaded the unit after it ended.
    pub last_run: Option<LastRun>,
    pub main_pid: u32,
    pub control_group: String,
    /// The limits systemd reports, those it has a value for.
    pub limits: Vec<Value>,
    /// What the launcher wrote into the payload's cgroup; `None` when it has no such cgroup.
    pub payload: Option<Payload>,
    /// The usage counters systemd has.
    pub usage: Vec<Usage>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LastRun {
    /// The service's `Result`: `success`, `exit-code`, `signal`, `oom-kill`, …
    pub result: String,
    /// As `systemctl status` says it: `code=exited/status=3`, `code=killed/signal=9`.
    pub termination: String,
}

/// One limit, by its D-Bus property name.
#[derive(Clone, Debug, Serialize)]
pub struct Value {
    pub name: &'static str,
    /// As `systemctl show` spells it: `infinity`, `50%`, `100000us`, `yes`, `0-3`, bytes.
    pub value: String,
    /// The text form, sizes also in binary units.
    #[serde(skip)]
    shown: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Payload {
    /// The payload's cgroup directory.
    pub cgroup: PathBuf,
    /// Its limit files and their content.
    pub files: Vec<File>,
}

#[derive(Clone, Debug, Serialize)]
pub struct File {
    pub file: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    pub name: &'static str,
    /// In bytes, tasks or nanoseconds.
    pub value: u64,
}

pub fn status(manager_kind: Manager, unit: &str) -> Result<Report, Error> {
    let mut bus = Bus::open(manager_kind, Via::Private)?;
    let state = bus
        .unit(unit)
        .map_err(|e| e.during(format!("reading {unit}")))?;
    if state.not_found() {
        return Err(Error::NotFound {
            unit: unit.to_owned(),
            manager: manager_kind,
        });
    }
    let service = &state.service;
    let control_group = service.text("ControlGroup");
    // How the last run ended (a signal, `oom-kill`), once its main process has.
    let code = service.get::<i32>("ExecMainCode").unwrap_or(0);
    let last_run = (code != 0).then(|| LastRun {
        result: service.text("Result"),
        termination: crate::run::wait::termination(
            code,
            service.get::<i32>("ExecMainStatus").unwrap_or(0),
        ),
    });
    let limits = limits()
        .filter_map(|spec| {
            let value = read_live(service, spec)?;
            let text = systemctl_spelling(spec, &value);
            (!text.is_empty()).then(|| Value {
                name: spec.dbus[0].0,
                shown: shown(spec, &value),
                value: text,
            })
        })
        .collect();
    let usage = USAGE
        .into_iter()
        .filter_map(|name| {
            let value = service.get::<u64>(name)?;
            (value != u64::MAX).then_some(Usage { name, value })
        })
        .collect();
    Ok(Report {
        format: FORMAT,
        unit: unit.to_owned(),
        manager: manager_kind,
        main_pid: service.get::<u32>("MainPID").unwrap_or(0),
        payload: payload(&control_group),
        load_state: state.load_state,
        active_state: state.active_state,
        sub_state: state.sub_state,
        fragment_path: state.fragment_path,
        last_run,
        control_group,
        limits,
        usage,
    })
}

impl Report {
    /// The report as `status` prints it without `--json`.
    pub fn text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "{}: {} ({}/{})",
            self.unit, self.load_state, self.active_state, self.sub_state
        );
        let _ = writeln!(text, "  unit file: {}", self.fragment_path);
        match &self.last_run {
            Some(last) => {
                let _ = writeln!(
                    text,
                    "  last run: result {}, {}",
                    last.result, last.termination
                );
            }
            // systemd unloads a unit that ended and that nothing refers to, and forgets how its
            // last run ended: the journal still has it.
            None if self.active_state == "inactive" => {
                let _ = writeln!(
                    text,
                    "  last run: not known to the manager any more (it unloads a unit that \
                     ended); journalctl {}-u {} has it",
                    match self.manager {
                        Manager::User => "--user ",
                        Manager::System => "",
                    },
                    self.unit
                );
            }
            None => {}
        }
        let _ = writeln!(
            text,
            "  main PID: {}   cgroup: {}",
            self.main_pid, self.control_group
        );
        let _ = writeln!(text, "limits (systemd):");
        for limit in &self.limits {
            let _ = writeln!(text, "  {:<20} {}", limit.name, limit.shown);
        }
        if let Some(payload) = &self.payload {
            let _ = writeln!(
                text,
                "limits (payload cgroup {}):",
                payload.cgroup.display()
            );
            for file in &payload.files {
                let _ = writeln!(text, "  {:<20} {}", file.file, file.value);
            }
        }
        let _ = writeln!(text, "usage:");
        for counter in &self.usage {
            let _ = writeln!(
                text,
                "  {:<20} {}",
                counter.name,
                usage(counter.name, counter.value)
            );
        }
        text
    }
}

/// What the launcher wrote into the payload's cgroup, which is what the payload sees.
fn payload(cgroup: &str) -> Option<Payload> {
    let leaf = Tree::open(&Mount::discover().ok()?, cgroup, DEFAULT_LEAF).ok()?;
    let mut files: Vec<&str> = limits().filter_map(|spec| spec.leaf).collect();
    files.dedup();
    let files: Vec<File> = files
        .into_iter()
        .filter_map(|file| {
            Some(File {
                file,
                value: leaf.read(file)?,
            })
        })
        .collect();
    (!files.is_empty()).then(|| Payload {
        cgroup: leaf.leaf_path().to_owned(),
        files,
    })
}

/// The value a running unit has for `spec`, as its D-Bus signature types it; `None` when the
/// manager does not know the property (or the unit is gone).
pub(crate) fn read_live(service: &Properties, spec: &PropertySpec) -> Option<DbusValue> {
    let (name, _) = spec.dbus[0];
    match spec.kind {
        Kind::CpuSet => service.get::<Vec<u8>>(name).map(DbusValue::Bytes),
        Kind::Bool => service.get::<bool>(name).map(DbusValue::Bool),
        _ => service.get::<u64>(name).map(DbusValue::U64),
    }
}

/// A live value as `systemctl show` spells it; an empty CPU set is "".
fn systemctl_spelling(spec: &PropertySpec, value: &DbusValue) -> String {
    match value {
        DbusValue::Bytes(mask) => CpuSet::decode(mask).list().to_owned(),
        DbusValue::Bool(set) => if *set { "yes" } else { "no" }.to_owned(),
        DbusValue::U64(value) => limit(spec.kind, *value),
        other => format!("{other:?}"),
    }
}

/// [`systemctl_spelling`], sizes also in binary units, for people.
pub(crate) fn shown(spec: &PropertySpec, value: &DbusValue) -> String {
    let text = systemctl_spelling(spec, value);
    match (spec.kind, value) {
        (Kind::Bytes { .. }, DbusValue::U64(bytes)) => match Limit::from_dbus(*bytes) {
            Limit::Finite(bytes) => format!("{text} ({})", crate::run::wait::size(bytes)),
            Limit::Infinity => text,
        },
        _ => text,
    }
}

/// A `t` value as `systemctl show` spells it; "" for a weight that is not set (systemd reads
/// `u64::MAX` back for it, which is not "infinity").
fn limit(kind: Kind, value: u64) -> String {
    let Limit::Finite(value) = Limit::from_dbus(value) else {
        return match kind {
            Kind::CpuWeight | Kind::IoWeight => String::new(),
            _ => Limit::Infinity.unit(),
        };
    };
    match kind {
        Kind::CpuQuota => CpuMax::percent(value),
        Kind::CpuQuotaPeriod => format!("{value}us"),
        _ => value.to_string(),
    }
}

fn usage(name: &str, value: u64) -> String {
    match name {
        "CPUUsageNSec" => format!("{:.3}s", value as f64 / 1e9),
        n if n.starts_with("Memory") => crate::run::wait::size(value),
        _ => value.to_string(),
    }
}
