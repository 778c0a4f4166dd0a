//! systemd properties: one table, [`ALL`] (and [`rlimit`](super::rlimit)'s `Limit*=` entries),
//! with one entry per property: its
//! unit-file key, its D-Bus names and signatures, the first release that knows it, what it acts
//! on, the leaf cgroup file the launcher mirrors it into, the kind of value it takes (whose
//! parser and formatters are in [`super::value`]), and whether a running unit can take a change.
//! The translators, `run -p` and the annotations ([`assign`]), the `unified` keys
//! ([`for_leaf`]), downgrade, `status` and doctor's version report all read it, so adding a
//! property is one entry and its test. systemd's own table is `src/shared/bus-unit-util.c`.
//!
//! Minimum versions come from systemd.resource-control(5) and dbus-cgroup.c (see
//! shared/reference/translation.md §2), for exec settings from systemd.exec(5) and systemd's NEWS;
//! they drive the downgrade stage.

use serde::Serialize;

use super::Destination;
use super::value::{CpuMax, CpuSet, Limit, Weight, parse_bool};

/// What a property acts on, which decides where it can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A cgroup property; needs the named controller on the unit's cgroup.
    Resource(&'static str),
    /// An exec property: only units systemd spawns (services) have it; a scope gets the
    /// launcher's equivalent instead.
    Exec,
    /// A property of the unit itself.
    Unit,
}

/// The kind of value a property takes, which decides how its text is read and written. The
/// kinds with a parser are what `run -p` and the annotations can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A byte count or infinity; `zero`: whether systemd takes 0 (a protection or a swap limit
    /// may be 0, `MemoryMax=0` is refused).
    Bytes {
        zero: bool,
    },
    /// A task count or infinity; systemd refuses 0.
    Tasks,
    /// A weight, or `idle`.
    CpuWeight,
    IoWeight,
    /// A percentage: `cpu.max`'s quota.
    CpuQuota,
    /// `cpu.max`'s period. No parser: set alone, the leaf's `cpu.max` would lose its quota.
    CpuQuotaPeriod,
    CpuSet,
    Bool,
    /// Formatted by its translator (exec settings, device lists, unit settings); no parser.
    Other,
}

/// The static facts about one systemd property.
#[derive(Debug, PartialEq, Eq)]
pub struct PropertySpec {
    /// The unit-file key (`CPUQuota`).
    pub key: &'static str,
    /// The D-Bus names and signatures, in the order a [`Property`] carries them: usually the
    /// key; `CPUQuota` is `CPUQuotaPerSecUSec`, a `Limit*=` has its soft limit in `…Soft`.
    pub dbus: &'static [(&'static str, &'static str)],
    /// The first systemd release that knows it.
    pub since: u32,
    /// A value newer than the property, and the release that reads it.
    pub newer: Option<(&'static str, u32)>,
    pub class: Class,
    /// The payload's cgroup file the launcher writes the same setting into.
    pub leaf: Option<&'static str>,
    pub kind: Kind,
    /// Whether a running unit takes a change (`systemctl set-property`, `SetUnitProperties`):
    /// systemd applies cgroup properties at runtime, exec and unit settings only at start.
    pub live: bool,
    /// Whether systemd expands `%` specifiers in the value (paths and names do).
    pub specifiers: bool,
}

impl PropertySpec {
    /// The release that reads `value` (the unit-file text) for this property.
    pub fn since_for(&self, value: &str) -> u32 {
        match self.newer {
            Some((newer, since)) if newer == value => since,
            _ => self.since,
        }
    }

    pub fn controller(&self) -> Option<&'static str> {
        match self.class {
            Class::Resource(controller) => Some(controller),
            Class::Exec | Class::Unit => None,
        }
    }

    /// Whether `run -p` and the annotations can set it.
    pub fn settable(&self) -> bool {
        !matches!(self.kind, Kind::CpuQuotaPeriod | Kind::Other)
    }
}

use Class::{Exec, Resource, Unit};
use Kind::{Bytes, Other};

const CGROUP: PropertySpec = PropertySpec {
    key: "",
    dbus: &[],
    since: 1,
    newer: None,
    class: Unit,
    leaf: None,
    kind: Other,
    live: true,
    specifiers: false,
};
pub(super) const EXEC: PropertySpec = PropertySpec {
    class: Exec,
    live: false,
    ..CGROUP
};
const UNIT: PropertySpec = PropertySpec {
    class: Unit,
    live: false,
    ..CGROUP
};

pub const MEMORY_MAX: PropertySpec = PropertySpec {
    key: "MemoryMax",
    dbus: &[("MemoryMax", "t")],
    since: 231,
    class: Resource("memory"),
    leaf: Some("memory.max"),
    kind: Bytes { zero: false },
    ..CGROUP
};
pub const MEMORY_HIGH: PropertySpec = PropertySpec {
    key: "MemoryHigh",
    dbus: &[("MemoryHigh", "t")],
    since: 231,
    class: Resource("memory"),
    leaf: Some("memory.high"),
    kind: Bytes { zero: false },
    ..CGROUP
};
pub const MEMORY_LOW: PropertySpec = PropertySpec {
    key: "MemoryLow",
    dbus: &[("MemoryLow", "t")],
    since: 240,
    class: Resource("memory"),
    leaf: Some("memory.low"),
    kind: Bytes { zero: true },
    ..CGROUP
};
pub const MEMORY_MIN: PropertySpec = PropertySpec {
    key: "MemoryMin",
    dbus: &[("MemoryMin", "t")],
    since: 240,
    class: Resource("memory"),
    leaf: Some("memory.min"),
    kind: Bytes { zero: true },
    ..CGROUP
};
pub const MEMORY_SWAP_MAX: PropertySpec = PropertySpec {
    key: "MemorySwapMax",
    dbus: &[("MemorySwapMax", "t")],
    since: 232,
    class: Resource("memory"),
    leaf: Some("memory.swap.max"),
    kind: Bytes { zero: true },
    ..CGROUP
};
pub const MEMORY_ZSWAP_MAX: PropertySpec = PropertySpec {
    key: "MemoryZSwapMax",
    dbus: &[("MemoryZSwapMax", "t")],
    since: 253,
    class: Resource("memory"),
    leaf: Some("memory.zswap.max"),
    kind: Bytes { zero: true },
    ..CGROUP
};
/// `memory.zswap.writeback` (kernel 6.8): `no` keeps zswap's pages out of the swap device.
pub const MEMORY_ZSWAP_WRITEBACK: PropertySpec = PropertySpec {
    key: "MemoryZSwapWriteback",
    dbus: &[("MemoryZSwapWriteback", "b")],
    since: 256,
    class: Resource("memory"),
    leaf: Some("memory.zswap.writeback"),
    kind: Kind::Bool,
    ..CGROUP
};
pub const CPU_WEIGHT: PropertySpec = PropertySpec {
    key: "CPUWeight",
    dbus: &[("CPUWeight", "t")],
    since: 232,
    // `CPUWeight=idle` (D-Bus 0) is newer than `CPUWeight=` itself; it is `cpu.idle` in the leaf.
    newer: Some(("idle", 252)),
    class: Resource("cpu"),
    leaf: Some("cpu.weight"),
    kind: Kind::CpuWeight,
    ..CGROUP
};
pub const CPU_QUOTA: PropertySpec = PropertySpec {
    key: "CPUQuota",
    dbus: &[("CPUQuotaPerSecUSec", "t")],
    since: 213,
    class: Resource("cpu"),
    leaf: Some("cpu.max"),
    kind: Kind::CpuQuota,
    ..CGROUP
};
pub const CPU_QUOTA_PERIOD: PropertySpec = PropertySpec {
    key: "CPUQuotaPeriodSec",
    dbus: &[("CPUQuotaPeriodUSec", "t")],
    since: 242,
    class: Resource("cpu"),
    leaf: Some("cpu.max"),
    kind: Kind::CpuQuotaPeriod,
    ..CGROUP
};
pub const ALLOWED_CPUS: PropertySpec = PropertySpec {
    key: "AllowedCPUs",
    dbus: &[("AllowedCPUs", "ay")],
    since: 244,
    class: Resource("cpuset"),
    leaf: Some("cpuset.cpus"),
    kind: Kind::CpuSet,
    ..CGROUP
};
pub const ALLOWED_MEMORY_NODES: PropertySpec = PropertySpec {
    key: "AllowedMemoryNodes",
    dbus: &[("AllowedMemoryNodes", "ay")],
    since: 244,
    class: Resource("cpuset"),
    leaf: Some("cpuset.mems"),
    kind: Kind::CpuSet,
    ..CGROUP
};
pub const TASKS_MAX: PropertySpec = PropertySpec {
    key: "TasksMax",
    dbus: &[("TasksMax", "t")],
    since: 227,
    class: Resource("pids"),
    leaf: Some("pids.max"),
    kind: Kind::Tasks,
    ..CGROUP
};
pub const IO_WEIGHT: PropertySpec = PropertySpec {
    key: "IOWeight",
    dbus: &[("IOWeight", "t")],
    since: 230,
    class: Resource("io"),
    leaf: Some("io.weight"),
    kind: Kind::IoWeight,
    ..CGROUP
};
pub const IO_DEVICE_WEIGHT: PropertySpec = PropertySpec {
    key: "IODeviceWeight",
    dbus: &[("IODeviceWeight", "a(st)")],
    since: 230,
    class: Resource("io"),
    leaf: Some("io.weight"),
    ..CGROUP
};
pub const IO_READ_BANDWIDTH_MAX: PropertySpec = PropertySpec {
    key: "IOReadBandwidthMax",
    dbus: &[("IOReadBandwidthMax", "a(st)")],
    since: 230,
    class: Resource("io"),
    leaf: Some("io.max"),
    ..CGROUP
};
pub const IO_WRITE_BANDWIDTH_MAX: PropertySpec = PropertySpec {
    key: "IOWriteBandwidthMax",
    dbus: &[("IOWriteBandwidthMax", "a(st)")],
    since: 230,
    class: Resource("io"),
    leaf: Some("io.max"),
    ..CGROUP
};
pub const IO_READ_IOPS_MAX: PropertySpec = PropertySpec {
    key: "IOReadIOPSMax",
    dbus: &[("IOReadIOPSMax", "a(st)")],
    since: 230,
    class: Resource("io"),
    leaf: Some("io.max"),
    ..CGROUP
};
pub const IO_WRITE_IOPS_MAX: PropertySpec = PropertySpec {
    key: "IOWriteIOPSMax",
    dbus: &[("IOWriteIOPSMax", "a(st)")],
    since: 230,
    class: Resource("io"),
    leaf: Some("io.max"),
    ..CGROUP
};
pub const DEVICE_POLICY: PropertySpec = PropertySpec {
    key: "DevicePolicy",
    dbus: &[("DevicePolicy", "s")],
    since: 208,
    class: Resource("devices"),
    ..CGROUP
};
pub const DEVICE_ALLOW: PropertySpec = PropertySpec {
    key: "DeviceAllow",
    dbus: &[("DeviceAllow", "a(ss)")],
    since: 208,
    class: Resource("devices"),
    ..CGROUP
};
pub const DELEGATE: PropertySpec = PropertySpec {
    key: "Delegate",
    dbus: &[("Delegate", "b")],
    since: 218,
    ..UNIT
};
pub const DELEGATE_SUBGROUP: PropertySpec = PropertySpec {
    key: "DelegateSubgroup",
    dbus: &[("DelegateSubgroup", "s")],
    since: 254,
    ..UNIT
};
pub const KILL_MODE: PropertySpec = PropertySpec {
    key: "KillMode",
    dbus: &[("KillMode", "s")],
    ..UNIT
};
pub const KILL_SIGNAL: PropertySpec = PropertySpec {
    key: "KillSignal",
    dbus: &[("KillSignal", "i")],
    ..UNIT
};
pub const SUCCESS_EXIT_STATUS: PropertySpec = PropertySpec {
    key: "SuccessExitStatus",
    dbus: &[("SuccessExitStatus", "(aiai)")],
    ..UNIT
};
pub const RUNTIME_DIRECTORY: PropertySpec = PropertySpec {
    key: "RuntimeDirectory",
    dbus: &[("RuntimeDirectory", "as")],
    since: 211,
    ..UNIT
};
pub const UMASK: PropertySpec = PropertySpec {
    key: "UMask",
    dbus: &[("UMask", "u")],
    ..EXEC
};
pub const OOM_SCORE_ADJUST: PropertySpec = PropertySpec {
    key: "OOMScoreAdjust",
    dbus: &[("OOMScoreAdjust", "i")],
    ..EXEC
};
pub const NO_NEW_PRIVILEGES: PropertySpec = PropertySpec {
    key: "NoNewPrivileges",
    dbus: &[("NoNewPrivileges", "b")],
    since: 187,
    ..EXEC
};
/// With `Type=notify`: only the main process (the runtime, relaying the container's) may say it
/// is ready.
pub const NOTIFY_ACCESS: PropertySpec = PropertySpec {
    key: "NotifyAccess",
    dbus: &[("NotifyAccess", "s")],
    ..EXEC
};
pub const USER: PropertySpec = PropertySpec {
    key: "User",
    dbus: &[("User", "s")],
    ..EXEC
};
pub const GROUP: PropertySpec = PropertySpec {
    key: "Group",
    dbus: &[("Group", "s")],
    ..EXEC
};
pub const SUPPLEMENTARY_GROUPS: PropertySpec = PropertySpec {
    key: "SupplementaryGroups",
    dbus: &[("SupplementaryGroups", "as")],
    ..EXEC
};
pub const CAPABILITY_BOUNDING_SET: PropertySpec = PropertySpec {
    key: "CapabilityBoundingSet",
    dbus: &[("CapabilityBoundingSet", "t")],
    ..EXEC
};
pub const AMBIENT_CAPABILITIES: PropertySpec = PropertySpec {
    key: "AmbientCapabilities",
    dbus: &[("AmbientCapabilities", "t")],
    since: 229,
    ..EXEC
};
pub const SYSTEM_CALL_FILTER: PropertySpec = PropertySpec {
    key: "SystemCallFilter",
    dbus: &[("SystemCallFilter", "(bas)")],
    since: 187,
    ..EXEC
};
pub const SYSTEM_CALL_ERROR_NUMBER: PropertySpec = PropertySpec {
    key: "SystemCallErrorNumber",
    dbus: &[("SystemCallErrorNumber", "i")],
    since: 209,
    ..EXEC
};
pub const SYSTEM_CALL_ARCHITECTURES: PropertySpec = PropertySpec {
    key: "SystemCallArchitectures",
    dbus: &[("SystemCallArchitectures", "as")],
    since: 209,
    ..EXEC
};
/// A path from the bundle, in which `%` must not become a specifier.
pub const WORKING_DIRECTORY: PropertySpec = PropertySpec {
    key: "WorkingDirectory",
    dbus: &[("WorkingDirectory", "s")],
    specifiers: true,
    ..EXEC
};
/// Security labels from the bundle, in which `%` must not become a specifier. AppArmorProfile
/// is (ignore-failure, profile) on the bus, SELinuxContext a plain string (dbus-execute.c).
pub const APPARMOR_PROFILE: PropertySpec = PropertySpec {
    key: "AppArmorProfile",
    dbus: &[("AppArmorProfile", "(bs)")],
    since: 210,
    specifiers: true,
    ..EXEC
};
pub const SELINUX_CONTEXT: PropertySpec = PropertySpec {
    key: "SELinuxContext",
    dbus: &[("SELinuxContext", "s")],
    since: 209,
    specifiers: true,
    ..EXEC
};

/// Every property but the `Limit*=` ones ([`super::rlimit::Resource::property`]), in the order
/// reports list them.
pub const ALL: &[&PropertySpec] = &[
    &MEMORY_MAX,
    &MEMORY_HIGH,
    &MEMORY_LOW,
    &MEMORY_MIN,
    &MEMORY_SWAP_MAX,
    &MEMORY_ZSWAP_MAX,
    &MEMORY_ZSWAP_WRITEBACK,
    &CPU_WEIGHT,
    &CPU_QUOTA,
    &CPU_QUOTA_PERIOD,
    &ALLOWED_CPUS,
    &ALLOWED_MEMORY_NODES,
    &TASKS_MAX,
    &IO_WEIGHT,
    &IO_DEVICE_WEIGHT,
    &IO_READ_BANDWIDTH_MAX,
    &IO_WRITE_BANDWIDTH_MAX,
    &IO_READ_IOPS_MAX,
    &IO_WRITE_IOPS_MAX,
    &DEVICE_POLICY,
    &DEVICE_ALLOW,
    &DELEGATE,
    &DELEGATE_SUBGROUP,
    &KILL_MODE,
    &KILL_SIGNAL,
    &SUCCESS_EXIT_STATUS,
    &RUNTIME_DIRECTORY,
    &UMASK,
    &OOM_SCORE_ADJUST,
    &NO_NEW_PRIVILEGES,
    &NOTIFY_ACCESS,
    &USER,
    &GROUP,
    &SUPPLEMENTARY_GROUPS,
    &CAPABILITY_BOUNDING_SET,
    &AMBIENT_CAPABILITIES,
    &SYSTEM_CALL_FILTER,
    &SYSTEM_CALL_ERROR_NUMBER,
    &SYSTEM_CALL_ARCHITECTURES,
    &WORKING_DIRECTORY,
    &APPARMOR_PROFILE,
    &SELINUX_CONTEXT,
];

/// The property for unit-file key `key`.
pub fn by_key(key: &str) -> Option<&'static PropertySpec> {
    ALL.iter().copied().find(|spec| spec.key == key)
}

/// The keys `run -p` and the annotations take, in the table's order.
pub fn settable_keys() -> Vec<&'static str> {
    ALL.iter()
        .filter(|spec| spec.settable())
        .map(|spec| spec.key)
        .collect()
}

/// The property systemd has for a `unified` key, when it reads the file's syntax.
pub fn for_leaf(file: &str) -> Option<&'static PropertySpec> {
    ALL.iter()
        .copied()
        .find(|spec| spec.leaf == Some(file) && spec.reads_leaf())
}

/// A typed value, ready to be written in every spelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Limit(Limit),
    Weight(Weight),
    /// `CPUWeight=idle`.
    Idle,
    CpuMax(CpuMax),
    CpuSet(CpuSet),
    Bool(bool),
}

/// Why an assignment was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a property of the table that has a parser.
    UnknownKey,
    /// What is wrong with the value, as a phrase (`expected a weight in 1..10000`).
    Value(String),
}

/// Where `KEY=VALUE` goes, `value` in systemd's syntax (what systemd-run's `-p` takes): what
/// `run -p` and the `org.systemd.property.*` annotations set.
pub fn assign(key: &str, value: &str, systemd: u32) -> Result<Destination, Refusal> {
    let spec = by_key(key)
        .filter(|spec| spec.settable())
        .ok_or(Refusal::UnknownKey)?;
    // No valid value has one, and a line break would end the unit's line.
    if value.chars().any(char::is_control) {
        return Err(Refusal::Value(format!(
            "a control character, which no {key} value has"
        )));
    }
    match spec.read(value, systemd) {
        Destination::Invalid { why } => Err(Refusal::Value(why)),
        destination => Ok(destination),
    }
}

impl PropertySpec {
    /// The property set to `text` in systemd syntax, or why it cannot be.
    pub fn read(&'static self, text: &str, systemd: u32) -> Destination {
        match self.parse(text) {
            Ok(Some(value)) => self.set(value, systemd),
            Ok(None) => Destination::ignored("empty: no restriction"),
            Err(Refusal::Value(why)) => Destination::invalid(why),
            Err(Refusal::UnknownKey) => {
                Destination::invalid(format!("compiler bug: {} has no parser", self.key))
            }
        }
    }

    /// Reads systemd syntax; `None` for a value that asks for nothing (an empty CPU list).
    pub fn parse(&self, text: &str) -> Result<Option<Value>, Refusal> {
        let expected = |what: &str| Refusal::Value(format!("expected {what}"));
        let value = match self.kind {
            Kind::Bytes { .. } | Kind::Tasks => {
                let limit = Limit::parse(text)
                    .ok_or_else(|| expected("a size such as 512M, or infinity"))?;
                if limit == Limit::Finite(0) && !self.takes_zero() {
                    return Err(expected("a size of at least 1 (systemd rejects 0)"));
                }
                Value::Limit(limit)
            }
            Kind::CpuWeight if text == "idle" => Value::Idle,
            Kind::CpuWeight => Value::Weight(
                Weight::parse(text).ok_or_else(|| expected("a weight in 1..10000, or idle"))?,
            ),
            Kind::IoWeight => {
                Value::Weight(Weight::parse(text).ok_or_else(|| expected("a weight in 1..10000"))?)
            }
            Kind::CpuQuota => Value::CpuMax(
                CpuMax::parse_percent(text)
                    .ok_or_else(|| expected("a percentage such as 50% or 12.5%"))?,
            ),
            Kind::CpuSet if text.trim().is_empty() => return Ok(None),
            Kind::CpuSet => Value::CpuSet(CpuSet::parse(text).map_err(Refusal::Value)?),
            Kind::Bool => Value::Bool(parse_bool(text).ok_or_else(|| expected("yes or no"))?),
            Kind::CpuQuotaPeriod | Kind::Other => return Err(Refusal::UnknownKey),
        };
        Ok(Some(value))
    }

    /// Reads the syntax of the leaf cgroup file (a `unified` value), or why it is not one.
    pub fn parse_leaf(&self, text: &str) -> Result<Value, String> {
        let bad = |what: &str| format!("{} is not {what}", crate::error::shown(text));
        let value = match self.kind {
            Kind::Bytes { .. } | Kind::Tasks => {
                let what = match self.kind {
                    Kind::Tasks => "a task count or \"max\"",
                    _ => "a byte count or \"max\"",
                };
                let limit = Limit::parse_cgroup(text).ok_or_else(|| bad(what))?;
                if limit == Limit::Finite(0) && !self.takes_zero() {
                    return Err(format!("0 is rejected by systemd ({}=0)", self.key));
                }
                Value::Limit(limit)
            }
            Kind::CpuWeight => {
                Value::Weight(Weight::parse(text).ok_or_else(|| bad("a weight in 1..10000"))?)
            }
            Kind::CpuSet => Value::CpuSet(CpuSet::parse(text)?),
            Kind::Bool => match text {
                "0" => Value::Bool(false),
                "1" => Value::Bool(true),
                _ => return Err(bad("0 or 1")),
            },
            Kind::IoWeight | Kind::CpuQuota | Kind::CpuQuotaPeriod | Kind::Other => {
                return Err(format!("{} has no value of its own in {}", self.key, text));
            }
        };
        Ok(value)
    }

    /// Whether a `unified` key for the leaf file is this property: `io.weight` also holds
    /// per-device weights, and `cpu.max` is two properties.
    fn reads_leaf(&self) -> bool {
        matches!(
            self.kind,
            Kind::Bytes { .. } | Kind::Tasks | Kind::CpuWeight | Kind::CpuSet | Kind::Bool
        )
    }

    fn takes_zero(&self) -> bool {
        matches!(self.kind, Kind::Bytes { zero: true })
    }

    /// The property set to `value`, mirrored into the leaf; invalid when systemd could not hold
    /// it (a quota beyond `CPUQuota=`'s range).
    pub fn set(&'static self, value: Value, systemd: u32) -> Destination {
        match (self.kind, value) {
            (Kind::Bytes { .. } | Kind::Tasks, Value::Limit(limit)) => Destination::mirrored(
                Property::new(self, limit.unit(), DbusValue::U64(limit.dbus())),
                limit.cgroup(),
            ),
            (Kind::CpuWeight, Value::Weight(weight)) => Destination::mirrored(
                Property::new(self, weight.get().to_string(), DbusValue::U64(weight.get())),
                weight.get().to_string(),
            ),
            (Kind::CpuWeight, Value::Idle) => Destination::mirrored_in(
                Property::new(self, "idle", DbusValue::U64(0)),
                "cpu.idle",
                "1",
            ),
            (Kind::IoWeight, Value::Weight(weight)) => Destination::mirrored(
                Property::new(self, weight.get().to_string(), DbusValue::U64(weight.get())),
                format!("default {}", weight.get()),
            ),
            (Kind::CpuQuota, Value::CpuMax(max)) => match max.per_sec(systemd) {
                Ok(per_sec) => Destination::mirrored(
                    Property::new(self, CpuMax::percent(per_sec), DbusValue::U64(per_sec)),
                    max.cgroup(),
                ),
                Err(why) => Destination::invalid(why),
            },
            (Kind::CpuQuotaPeriod, Value::CpuMax(max)) => Destination::mirrored(
                Property::new(
                    self,
                    format!("{}us", max.period),
                    DbusValue::U64(max.period),
                ),
                max.cgroup(),
            ),
            (Kind::CpuSet, Value::CpuSet(set)) => Destination::mirrored(
                Property::new(self, set.list(), DbusValue::Bytes(set.encode())),
                set.list(),
            ),
            (Kind::Bool, Value::Bool(set)) => Destination::mirrored(
                Property::new(self, if set { "yes" } else { "no" }, DbusValue::Bool(set)),
                if set { "1" } else { "0" },
            ),
            (_, value) => Destination::invalid(format!(
                "compiler bug: {} does not take {value:?}",
                self.key
            )),
        }
    }
}

/// A D-Bus value, typed by the signature systemd's setter reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum DbusValue {
    /// `t`; `u64::MAX` is systemd's "infinity".
    U64(u64),
    /// `i`
    I32(i32),
    /// `u`
    U32(u32),
    /// `b`
    Bool(bool),
    /// `s`
    Str(String),
    /// `as`
    StrList(Vec<String>),
    /// `ay`: a CPU or NUMA-node bitmask, byte i bit j = index 8i+j.
    Bytes(Vec<u8>),
    /// `a(st)`: device path and number (weights, bandwidth, IOPS).
    PathNumbers(Vec<(String, u64)>),
    /// `a(ss)`: device path and access (DeviceAllow).
    PathStrings(Vec<(String, String)>),
    /// `au`: process IDs (a scope's `PIDs`).
    U32List(Vec<u32>),
    /// `a(sasb)`: `ExecStart`, as (path, argv, ignore-failure) per command.
    Commands(Vec<(String, Vec<String>, bool)>),
    /// `(aiai)`: `SuccessExitStatus`, as exit statuses and signals.
    ExitStatuses(Vec<i32>, Vec<i32>),
    /// `(bas)`: `SystemCallFilter`, as (allow-list, names).
    FlagStrings(bool, Vec<String>),
    /// `(bs)`: `AppArmorProfile`, as (ignore-failure, profile).
    FlagString(bool, String),
}

impl DbusValue {
    pub fn signature(&self) -> &'static str {
        match self {
            DbusValue::U64(_) => "t",
            DbusValue::I32(_) => "i",
            DbusValue::U32(_) => "u",
            DbusValue::Bool(_) => "b",
            DbusValue::Str(_) => "s",
            DbusValue::StrList(_) => "as",
            DbusValue::Bytes(_) => "ay",
            DbusValue::PathNumbers(_) => "a(st)",
            DbusValue::PathStrings(_) => "a(ss)",
            DbusValue::U32List(_) => "au",
            DbusValue::Commands(_) => "a(sasb)",
            DbusValue::ExitStatuses(..) => "(aiai)",
            DbusValue::FlagStrings(..) => "(bas)",
            DbusValue::FlagString(..) => "(bs)",
        }
    }
}

/// One D-Bus property assignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DbusProperty {
    pub name: &'static str,
    pub signature: &'static str,
    pub value: DbusValue,
}

impl DbusProperty {
    pub fn new(name: &'static str, value: DbusValue) -> DbusProperty {
        DbusProperty {
            name,
            signature: value.signature(),
            value,
        }
    }
}

/// One systemd setting: a line in the unit file, one or more properties on the bus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Property {
    #[serde(skip)]
    pub spec: &'static PropertySpec,
    /// The unit-file line, `KEY=VALUE`, before escaping.
    pub key: &'static str,
    pub value: String,
    pub dbus: Vec<DbusProperty>,
    pub since: u32,
}

impl Property {
    /// A property with one D-Bus value, named as the table names it.
    pub fn new(spec: &'static PropertySpec, value: impl Into<String>, dbus: DbusValue) -> Property {
        Property::with_dbus(spec, value, vec![dbus])
    }

    /// A property with a D-Bus value for each of the table's names (a `Limit*=`'s hard and soft
    /// limit).
    pub fn with_dbus(
        spec: &'static PropertySpec,
        value: impl Into<String>,
        dbus: Vec<DbusValue>,
    ) -> Property {
        let value = value.into();
        let dbus = spec
            .dbus
            .iter()
            .zip(dbus)
            .map(|((name, signature), value)| {
                debug_assert_eq!(*signature, value.signature(), "{name}");
                DbusProperty::new(name, value)
            })
            .collect();
        Property {
            spec,
            key: spec.key,
            since: spec.since_for(&value),
            value,
            dbus,
        }
    }

    /// The controller the property needs on the unit's cgroup, if it is a cgroup property.
    pub fn controller(&self) -> Option<&'static str> {
        self.spec.controller()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A value of each settable property in systemd syntax, and what ociunit writes for it.
    pub(crate) fn example(spec: &PropertySpec) -> (&'static str, &'static str) {
        match spec.kind {
            Kind::Bytes { .. } => ("512M", "536870912"),
            Kind::Tasks => ("infinity", "infinity"),
            Kind::CpuWeight => ("+200", "200"),
            Kind::IoWeight => ("300", "300"),
            Kind::CpuQuota => ("12.50%", "12.5%"),
            Kind::CpuSet => ("0-3", "0-3"),
            Kind::Bool => ("off", "no"),
            Kind::CpuQuotaPeriod | Kind::Other => panic!("{} has no parser", spec.key),
        }
    }

    fn property(key: &str, value: &str) -> (Property, Option<String>) {
        match assign(key, value, 257) {
            Ok(Destination::Property { property, leaf }) => {
                (property, leaf.map(|write| write.to_string()))
            }
            other => panic!("{key}={value}: {other:?}"),
        }
    }

    #[test]
    fn every_entry_is_consistent() {
        for spec in ALL
            .iter()
            .copied()
            .chain(crate::plan::rlimit::Resource::ALL.map(super::super::rlimit::Resource::property))
        {
            let key = spec.key;
            assert!(!spec.dbus.is_empty(), "{key}: no D-Bus name");
            assert!(spec.since >= 1, "{key}");
            assert_eq!(spec.live, spec.controller().is_some(), "{key}: live");
            if let Some(file) = spec.leaf {
                assert!(
                    spec.controller().is_some(),
                    "{key}: a leaf file without a controller"
                );
                assert!(
                    file.starts_with(spec.controller().unwrap()),
                    "{key}: {file}"
                );
                crate::cgroupfs::file::InterfaceFile::parse(file).unwrap();
            }
            assert_eq!(by_key(key).is_some(), !key.starts_with("Limit"), "{key}");
        }
        let mut keys: Vec<_> = ALL.iter().map(|spec| spec.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ALL.len(), "a key twice");
    }

    /// Parse, format, parse again: the same property, the D-Bus value the table's signature
    /// says, and the leaf file the table names.
    #[test]
    fn every_settable_entry_round_trips() {
        for spec in ALL.iter().filter(|spec| spec.settable()) {
            let (text, written) = example(spec);
            let (first, leaf) = property(spec.key, text);
            assert_eq!(first.value, written, "{}", spec.key);
            let (again, leaf_again) = property(spec.key, &first.value);
            assert_eq!((&again, &leaf_again), (&first, &leaf), "{}", spec.key);
            let signatures: Vec<_> = first.dbus.iter().map(|p| (p.name, p.signature)).collect();
            assert_eq!(signatures, spec.dbus, "{}", spec.key);
            let leaf = leaf.unwrap_or_else(|| panic!("{}: no leaf write", spec.key));
            assert!(
                leaf.starts_with(&format!("{}=", spec.leaf.unwrap())),
                "{leaf}"
            );
            if spec.reads_leaf() {
                let (file, value) = leaf.split_once('=').unwrap();
                assert_eq!(for_leaf(file), Some(*spec), "{file}");
                let from_leaf = spec.set(spec.parse_leaf(value).unwrap(), 257);
                let Destination::Property { property, .. } = from_leaf else {
                    panic!("{file}={value}: {from_leaf:?}")
                };
                assert_eq!(property, first, "{file}={value}");
            }
        }
    }

    #[test]
    fn dbus_values() {
        let dbus = |key: &str, value: &str| property(key, value).0.dbus[0].value.clone();
        assert_eq!(dbus("MemoryMax", "1G"), DbusValue::U64(1 << 30));
        assert_eq!(dbus("MemoryMax", "infinity"), DbusValue::U64(u64::MAX));
        assert_eq!(dbus("CPUWeight", "idle"), DbusValue::U64(0));
        assert_eq!(dbus("CPUQuota", "50%"), DbusValue::U64(500_000));
        assert_eq!(
            dbus("AllowedCPUs", "0,2-4,7,9-10"),
            DbusValue::Bytes(vec![157, 6])
        );
        let (writeback, leaf) = property("MemoryZSwapWriteback", "false");
        assert_eq!(writeback.dbus[0].value, DbusValue::Bool(false));
        assert_eq!(
            (writeback.value.as_str(), writeback.since, leaf.as_deref()),
            ("no", 256, Some("memory.zswap.writeback=0"))
        );
        let (idle, leaf) = property("CPUWeight", "idle");
        assert_eq!((idle.since, leaf.as_deref()), (252, Some("cpu.idle=1")));
        assert_eq!(
            property("IOWeight", "200").1.as_deref(),
            Some("io.weight=default 200")
        );
        assert_eq!(
            property("TasksMax", "infinity").1.as_deref(),
            Some("pids.max=max")
        );
        assert_eq!(
            property("CPUQuota", "12.5%").1.as_deref(),
            Some("cpu.max=12500 100000")
        );
    }

    #[test]
    fn refusals() {
        let refused = |key: &str, value: &str| assign(key, value, 257).unwrap_err();
        assert_eq!(refused("Nice", "5"), Refusal::UnknownKey);
        assert_eq!(refused("memorymax", "1G"), Refusal::UnknownKey);
        assert_eq!(refused("DeviceAllow", "/dev/null rw"), Refusal::UnknownKey);
        for (key, value) in [
            ("MemoryMax", "0"),
            ("TasksMax", "0"),
            ("MemoryMax", "1G;"),
            ("CPUWeight", "0"),
            ("IOWeight", "10001"),
            ("CPUQuota", "50"),
            ("AllowedCPUs", "3-1"),
            ("AllowedCPUs", "0,\n1"),
            ("AllowedMemoryNodes", "0\t"),
            ("MemoryZSwapWriteback", "maybe"),
        ] {
            assert!(
                matches!(refused(key, value), Refusal::Value(_)),
                "{key}={value:?}"
            );
        }
        for key in ["MemoryLow", "MemoryMin", "MemorySwapMax", "MemoryZSwapMax"] {
            assert!(assign(key, "0", 257).is_ok(), "{key}=0");
        }
        assert!(matches!(
            assign("AllowedCPUs", "", 257),
            Ok(Destination::Ignored { .. })
        ));
    }

    #[test]
    fn leaf_syntax() {
        let why = |file: &str, value: &str| for_leaf(file).unwrap().parse_leaf(value).unwrap_err();
        assert_eq!(
            why("pids.max", "0"),
            "0 is rejected by systemd (TasksMax=0)"
        );
        assert_eq!(
            why("memory.max", "lots"),
            "\"lots\" is not a byte count or \"max\""
        );
        assert!(for_leaf("memory.swap.max").unwrap().parse_leaf("0").is_ok());
        assert_eq!(
            why("memory.zswap.writeback", "yes"),
            "\"yes\" is not 0 or 1"
        );
        assert_eq!(
            for_leaf("io.weight"),
            None,
            "io.weight holds device weights too"
        );
        assert_eq!(for_leaf("cpu.max"), None, "cpu.max is two properties");
    }
}

/// The README lists what the table says; these keep the two in step.
#[cfg(test)]
mod readme {
    use super::*;

    const README: &str = include_str!("../../README.md");

    /// The backquoted words of `text` and what follows each up to the next backquote.
    fn quoted(text: &str) -> impl Iterator<Item = (&str, &str)> {
        let parts: Vec<&str> = text.split('`').collect();
        (1..parts.len())
            .step_by(2)
            .map(move |i| (parts[i], parts.get(i + 1).copied().unwrap_or_default()))
    }

    fn between<'a>(start: &str, end: &str) -> &'a str {
        let from = README.find(start).expect(start) + start.len();
        let to = README[from..].find(end).expect(end);
        &README[from..from + to]
    }

    /// In the translation table, a row's leaf file column names the file the property of its
    /// property column is mirrored into.
    #[test]
    fn the_translation_table_names_the_leaf_files() {
        let rows = between("| OCI field | systemd property |", "**What is refused**");
        let mut checked = 0;
        for row in rows.lines().filter(|line| line.starts_with("| `")) {
            let columns: Vec<&str> = row.split(" | ").collect();
            for (word, _) in quoted(columns[1]) {
                let Some(leaf) = by_key(word.trim_end_matches('=')).and_then(|spec| spec.leaf)
                else {
                    continue;
                };
                assert!(columns[2].contains(&format!("`{leaf}`")), "{word}: {row}");
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked} rows checked");
    }

    #[test]
    fn the_p_list_is_the_settable_entries() {
        let text = between("that has a parser,", "in systemd-run's syntax");
        let listed: Vec<&str> = quoted(text).map(|(word, _)| word).collect();
        assert_eq!(listed, settable_keys());
    }

    #[test]
    fn the_version_list_is_the_since_column() {
        let text = between(
            "[`src/plan/property.rs`](src/plan/property.rs)):",
            "Besides the table",
        );
        let listed: Vec<(String, u32)> = quoted(text)
            .map(|(word, after)| {
                let since = after.split([',', '.', ' ', '\n']).find(|w| !w.is_empty());
                (
                    word.to_owned(),
                    since.and_then(|n| n.parse().ok()).unwrap_or(0),
                )
            })
            .collect();
        let mut table: Vec<(String, u32)> = ALL
            .iter()
            .flat_map(|p| {
                let newer = p
                    .newer
                    .map(|(value, since)| (format!("{}={value}", p.key), since));
                [(p.key.to_owned(), p.since)].into_iter().chain(newer)
            })
            .filter(|(_, since)| *since > crate::target::MIN_SYSTEMD)
            .collect();
        table.sort_by_key(|(_, since)| *since);
        assert_eq!(listed, table);
    }
}
