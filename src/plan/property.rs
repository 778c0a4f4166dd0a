//! systemd properties: each one knows its unit-file spelling and its D-Bus name, signature and
//! value, so one plan feeds both a `.service` file and `StartTransientUnit`.
//!
//! Minimum versions come from systemd.resource-control(5) and dbus-cgroup.c (see
//! shared/reference/translation.md §2), for exec settings from systemd.exec(5) and systemd's NEWS;
//! they drive the downgrade stage.

use serde::Serialize;

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

/// The static facts about one systemd property.
#[derive(Debug, PartialEq, Eq)]
pub struct PropertySpec {
    /// The unit-file key (`CPUQuota`).
    pub key: &'static str,
    /// The first systemd release that knows it.
    pub since: u32,
    pub class: Class,
    /// Whether systemd expands `%` specifiers in the value (paths and names do).
    pub specifiers: bool,
}

macro_rules! properties {
    ($($(#[$doc:meta])* $name:ident = $key:literal, $since:literal, $class:expr;)*) => {
        $($(#[$doc])* pub const $name: PropertySpec =
            PropertySpec { key: $key, since: $since, class: $class, specifiers: false };)*

        /// Every property above, for reports of what a systemd version lacks.
        pub const ALL: &[&PropertySpec] = &[$(&$name),*];
    };
}

use Class::{Exec, Resource, Unit};

properties! {
    MEMORY_MAX = "MemoryMax", 231, Resource("memory");
    MEMORY_HIGH = "MemoryHigh", 231, Resource("memory");
    MEMORY_LOW = "MemoryLow", 240, Resource("memory");
    MEMORY_MIN = "MemoryMin", 240, Resource("memory");
    MEMORY_SWAP_MAX = "MemorySwapMax", 232, Resource("memory");
    MEMORY_ZSWAP_MAX = "MemoryZSwapMax", 253, Resource("memory");
    CPU_WEIGHT = "CPUWeight", 232, Resource("cpu");
    /// `CPUWeight=idle` (D-Bus 0) is newer than `CPUWeight=` itself.
    CPU_WEIGHT_IDLE = "CPUWeight", 252, Resource("cpu");
    CPU_QUOTA = "CPUQuota", 213, Resource("cpu");
    CPU_QUOTA_PERIOD = "CPUQuotaPeriodSec", 242, Resource("cpu");
    ALLOWED_CPUS = "AllowedCPUs", 244, Resource("cpuset");
    ALLOWED_MEMORY_NODES = "AllowedMemoryNodes", 244, Resource("cpuset");
    TASKS_MAX = "TasksMax", 227, Resource("pids");
    IO_WEIGHT = "IOWeight", 230, Resource("io");
    IO_DEVICE_WEIGHT = "IODeviceWeight", 230, Resource("io");
    IO_READ_BANDWIDTH_MAX = "IOReadBandwidthMax", 230, Resource("io");
    IO_WRITE_BANDWIDTH_MAX = "IOWriteBandwidthMax", 230, Resource("io");
    IO_READ_IOPS_MAX = "IOReadIOPSMax", 230, Resource("io");
    IO_WRITE_IOPS_MAX = "IOWriteIOPSMax", 230, Resource("io");
    DEVICE_POLICY = "DevicePolicy", 208, Resource("devices");
    DEVICE_ALLOW = "DeviceAllow", 208, Resource("devices");
    DELEGATE_SUBGROUP = "DelegateSubgroup", 254, Unit;
    KILL_MODE = "KillMode", 1, Unit;
    KILL_SIGNAL = "KillSignal", 1, Unit;
    SUCCESS_EXIT_STATUS = "SuccessExitStatus", 1, Unit;
    RUNTIME_DIRECTORY = "RuntimeDirectory", 211, Unit;
    UMASK = "UMask", 1, Exec;
    OOM_SCORE_ADJUST = "OOMScoreAdjust", 1, Exec;
    NO_NEW_PRIVILEGES = "NoNewPrivileges", 187, Exec;
    USER = "User", 1, Exec;
    GROUP = "Group", 1, Exec;
    SUPPLEMENTARY_GROUPS = "SupplementaryGroups", 1, Exec;
    CAPABILITY_BOUNDING_SET = "CapabilityBoundingSet", 1, Exec;
    AMBIENT_CAPABILITIES = "AmbientCapabilities", 229, Exec;
    SYSTEM_CALL_FILTER = "SystemCallFilter", 187, Exec;
    SYSTEM_CALL_ERROR_NUMBER = "SystemCallErrorNumber", 209, Exec;
    SYSTEM_CALL_ARCHITECTURES = "SystemCallArchitectures", 209, Exec;
}

/// A path from the bundle, in which `%` must not become a specifier.
pub const WORKING_DIRECTORY: PropertySpec = PropertySpec {
    key: "WorkingDirectory",
    since: 1,
    class: Exec,
    specifiers: true,
};

/// Security labels from the bundle, in which `%` must not become a specifier.
pub const APPARMOR_PROFILE: PropertySpec = PropertySpec {
    key: "AppArmorProfile",
    since: 210,
    class: Exec,
    specifiers: true,
};

pub const SELINUX_CONTEXT: PropertySpec = PropertySpec {
    key: "SELinuxContext",
    since: 209,
    class: Exec,
    specifiers: true,
};

/// The `Limit*=` settings, one per `RLIMIT_*` suffix. Each has two D-Bus properties: the hard
/// limit under the plain name and the soft one under `…Soft`.
pub const RLIMITS: [(&str, PropertySpec, &str); 16] = {
    macro_rules! limit {
        ($suffix:literal) => {
            (
                $suffix,
                PropertySpec {
                    key: concat!("Limit", $suffix),
                    since: 1,
                    class: Exec,
                    specifiers: false,
                },
                concat!("Limit", $suffix, "Soft"),
            )
        };
    }
    [
        limit!("CPU"),
        limit!("FSIZE"),
        limit!("DATA"),
        limit!("STACK"),
        limit!("CORE"),
        limit!("RSS"),
        limit!("NPROC"),
        limit!("NOFILE"),
        limit!("MEMLOCK"),
        limit!("AS"),
        limit!("LOCKS"),
        limit!("SIGPENDING"),
        limit!("MSGQUEUE"),
        limit!("NICE"),
        limit!("RTPRIO"),
        limit!("RTTIME"),
    ]
};

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
    /// A property whose D-Bus name is its unit-file key.
    pub fn new(spec: &'static PropertySpec, value: impl Into<String>, dbus: DbusValue) -> Property {
        Property::with_dbus(spec, value, vec![DbusProperty::new(spec.key, dbus)])
    }

    pub fn with_dbus(
        spec: &'static PropertySpec,
        value: impl Into<String>,
        dbus: Vec<DbusProperty>,
    ) -> Property {
        Property {
            spec,
            key: spec.key,
            value: value.into(),
            dbus,
            since: spec.since,
        }
    }

    /// The controller the property needs on the unit's cgroup, if it is a cgroup property.
    pub fn controller(&self) -> Option<&'static str> {
        match self.spec.class {
            Class::Resource(controller) => Some(controller),
            Class::Exec | Class::Unit => None,
        }
    }
}

/// Formats a byte count or "infinity" the way both unit files and `systemctl show` do.
pub fn limit_text(value: Option<u64>) -> String {
    value.map_or_else(|| "infinity".to_owned(), |v| v.to_string())
}

/// The D-Bus form of a limit: systemd reads `u64::MAX` as infinity.
pub fn limit_dbus(value: Option<u64>) -> DbusValue {
    DbusValue::U64(value.unwrap_or(u64::MAX))
}
