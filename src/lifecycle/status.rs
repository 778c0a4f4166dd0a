//! `ociunit status`: one screen with the unit's state, its limits as systemd reports them, the
//! limits the payload's own cgroup holds, and current usage.

use std::fmt::Write;
use std::path::Path;

use crate::error::Error;
use crate::launch::grammar::DEFAULT_LEAF;
use crate::manager;
use crate::plan::property::{ALL, DbusValue, Kind, PropertySpec};
use crate::plan::value::{CpuMax, CpuSet, Limit};
use crate::target::Manager;

const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SERVICE: &str = "org.freedesktop.systemd1.Service";

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

pub fn status(manager_kind: Manager, unit: &str) -> Result<String, Error> {
    let connection = manager::connect(manager_kind)?;
    let proxy = manager::proxy(&connection)?;
    let path = proxy
        .load_unit(unit)
        .map_err(|e| manager::call_error(&format!("loading {unit}"), &e))?;
    let interfaces = manager::unit_interface(&connection, &path, UNIT)
        .and_then(|u| Ok((u, manager::unit_interface(&connection, &path, SERVICE)?)));
    let (unit_iface, service) =
        interfaces.map_err(|e| manager::call_error(&format!("reading {unit}"), &e))?;
    let text_of = |proxy: &zbus::blocking::Proxy, name: &str| {
        proxy
            .get_property::<String>(name)
            .unwrap_or_else(|_| "?".into())
    };
    let number = |name: &str| service.get_property::<u64>(name).ok();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{unit}: {} ({}/{})",
        text_of(&unit_iface, "LoadState"),
        text_of(&unit_iface, "ActiveState"),
        text_of(&unit_iface, "SubState")
    );
    let _ = writeln!(
        text,
        "  unit file: {}",
        text_of(&unit_iface, "FragmentPath")
    );
    // How the last run ended (a signal, `oom-kill`), once its main process has.
    let code = service.get_property::<i32>("ExecMainCode").unwrap_or(0);
    if code != 0 {
        let status = service.get_property::<i32>("ExecMainStatus").unwrap_or(0);
        let _ = writeln!(
            text,
            "  last run: result {}, {}",
            text_of(&service, "Result"),
            crate::run::wait::termination(code, status)
        );
    }
    let cgroup = text_of(&service, "ControlGroup");
    let main_pid = service.get_property::<u32>("MainPID").unwrap_or(0);
    let _ = writeln!(text, "  main PID: {main_pid}   cgroup: {cgroup}");
    let _ = writeln!(text, "limits (systemd):");
    for spec in limits() {
        let value = read_live(&service, spec).map(|value| shown(spec, &value));
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            let _ = writeln!(text, "  {:<20} {value}", spec.dbus[0].0);
        }
    }
    leaf_limits(&mut text, &cgroup);
    let _ = writeln!(text, "usage:");
    for name in USAGE {
        if let Some(value) = number(name).filter(|v| *v != u64::MAX) {
            let _ = writeln!(text, "  {name:<20} {}", usage(name, value));
        }
    }
    Ok(text)
}

/// What the launcher wrote into the payload's cgroup, which is what the payload sees.
fn leaf_limits(text: &mut String, cgroup: &str) {
    let leaf = Path::new("/sys/fs/cgroup")
        .join(cgroup.trim_start_matches('/'))
        .join(DEFAULT_LEAF);
    let mut files: Vec<&str> = limits().filter_map(|spec| spec.leaf).collect();
    files.dedup();
    let values: Vec<(&str, String)> = files
        .into_iter()
        .filter_map(|file| {
            Some((
                file,
                std::fs::read_to_string(leaf.join(file))
                    .ok()?
                    .trim()
                    .to_owned(),
            ))
        })
        .collect();
    if values.is_empty() {
        return;
    }
    let _ = writeln!(text, "limits (payload cgroup {}):", leaf.display());
    for (file, value) in values {
        let _ = writeln!(text, "  {file:<20} {value}");
    }
}

/// The value a running unit has for `spec`, as its D-Bus signature types it; `None` when the
/// manager does not know the property (or the unit is gone).
pub(crate) fn read_live(service: &zbus::blocking::Proxy, spec: &PropertySpec) -> Option<DbusValue> {
    let (name, _) = spec.dbus[0];
    match spec.kind {
        Kind::CpuSet => service
            .get_property::<Vec<u8>>(name)
            .ok()
            .map(DbusValue::Bytes),
        Kind::Bool => service.get_property::<bool>(name).ok().map(DbusValue::Bool),
        _ => service.get_property::<u64>(name).ok().map(DbusValue::U64),
    }
}

/// A live value as `systemctl show` spells it, sizes also in binary units; an empty CPU set is
/// "".
pub(crate) fn shown(spec: &PropertySpec, value: &DbusValue) -> String {
    match value {
        DbusValue::Bytes(mask) => CpuSet::decode(mask).list().to_owned(),
        DbusValue::Bool(set) => if *set { "yes" } else { "no" }.to_owned(),
        DbusValue::U64(value) => limit(spec.kind, *value),
        other => format!("{other:?}"),
    }
}

/// A `t` value as `systemctl show` spells it, sizes also in binary units.
fn limit(kind: Kind, value: u64) -> String {
    let Limit::Finite(value) = Limit::from_dbus(value) else {
        return Limit::Infinity.unit();
    };
    match kind {
        Kind::CpuQuota => CpuMax::percent(value),
        Kind::CpuQuotaPeriod => format!("{value}us"),
        Kind::Bytes { .. } => format!("{value} ({})", crate::run::wait::size(value)),
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
