//! The typed plan between the OCI spec and every output.
//!
//! A plan is a list of mappings, one per field present in the bundle, each saying where that
//! field went. The unit file, the explain report and the D-Bus property list are all read off
//! the same mappings, so they cannot disagree about what happened to a field.

pub mod container;
pub mod property;
pub mod rlimit;
pub mod value;

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::cgroupfs::file::{CgroupWrite, InterfaceFile};
use crate::launch::grammar::{LaunchSpec, Rlimit};
use crate::runtime::Mode;
use crate::target::Target;
use container::Container;
use property::{Class, DbusValue, NOTIFY_ACCESS, Property, PropertySpec};
use rlimit::Resource;

/// The leaf cgroup the compiler asks for by default.
pub const DEFAULT_LEAF: &str = "payload";

/// Where one OCI field went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Destination {
    /// A systemd property. `leaf` is the same limit written by the launcher into the payload's
    /// own cgroup, so programs that size themselves from their cgroup see it, and so it still
    /// applies when the target systemd is too old for the property.
    Property {
        property: Property,
        #[serde(skip_serializing_if = "Option::is_none")]
        leaf: Option<CgroupWrite>,
    },
    /// A cgroup file the launcher writes, because systemd has no property for it.
    Launcher { write: CgroupWrite, why: String },
    /// The payload's command line or environment, carried by the launcher.
    Payload { what: String },
    /// Applied by the OCI runtime in container mode (`what` says how, and what ociunit changed
    /// in the runtime's config).
    Runtime { what: String },
    /// Something the bundle lacks, added to the runtime's config because the unit needs it;
    /// an error under `--strict`.
    Added { what: String },
    /// Asks for nothing beyond the default; no warning.
    Ignored { why: String },
    /// Cannot be honoured here; a warning, an error under `--strict`.
    Dropped { why: String },
    /// Wrong; the bundle does not compile.
    Invalid { why: String },
}

impl Destination {
    pub fn property(
        spec: &'static PropertySpec,
        value: impl Into<String>,
        dbus: DbusValue,
    ) -> Destination {
        Destination::Property {
            property: Property::new(spec, value, dbus),
            leaf: None,
        }
    }

    /// A property that the launcher also writes into the leaf, in the file the table names.
    pub fn mirrored(property: Property, value: impl Into<String>) -> Destination {
        let leaf = property
            .spec
            .leaf
            .map(|file| CgroupWrite::new(known_file(file), value));
        Destination::Property { property, leaf }
    }

    /// A property that the launcher writes into another file than its own (`CPUWeight=idle` is
    /// `cpu.idle`).
    pub fn mirrored_in(property: Property, file: &str, value: impl Into<String>) -> Destination {
        let leaf = CgroupWrite::new(known_file(file), value);
        Destination::Property {
            property,
            leaf: Some(leaf),
        }
    }

    pub fn launcher(file: &str, value: impl Into<String>, why: impl Into<String>) -> Destination {
        Destination::Launcher {
            write: CgroupWrite::new(known_file(file), value),
            why: why.into(),
        }
    }

    pub fn runtime(what: impl Into<String>) -> Destination {
        Destination::Runtime { what: what.into() }
    }

    pub fn ignored(why: impl Into<String>) -> Destination {
        Destination::Ignored { why: why.into() }
    }

    pub fn dropped(why: impl Into<String>) -> Destination {
        Destination::Dropped { why: why.into() }
    }

    pub fn invalid(why: impl Into<String>) -> Destination {
        Destination::Invalid { why: why.into() }
    }
}

/// Interface files named by the compiler itself are constants or built from validated parts.
fn known_file(file: &str) -> InterfaceFile {
    InterfaceFile::parse(file)
        .unwrap_or_else(|why| panic!("compiler bug: {file:?} is not an interface file: {why}"))
}

/// One field of the bundle and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// The JSON path, e.g. `linux.resources.cpu.shares`.
    pub path: String,
    pub value: Value,
    /// The formula or rule used, when there is one worth knowing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion: Option<String>,
    pub destinations: Vec<Destination>,
}

impl Mapping {
    pub fn to(&mut self, destination: Destination) -> &mut Mapping {
        self.destinations.push(destination);
        self
    }

    pub fn via(&mut self, conversion: impl Into<String>) -> &mut Mapping {
        self.conversion = Some(conversion.into());
        self
    }
}

/// Where the bundle came from, recorded in the unit for drift detection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    pub config: PathBuf,
    pub sha256: String,
}

/// Everything needed to produce a unit or a transient unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The full unit name, `NAME.service`.
    pub unit: String,
    pub target: Target,
    pub source: Source,
    /// On the host or as a container, and why.
    pub mode: Mode,
    /// The runtime and its config, in container mode.
    pub container: Option<Container>,
    pub mappings: Vec<Mapping>,
    /// What the launcher execs: `process.args` on the host, the runtime in container mode.
    pub command: Vec<String>,
    /// The payload's whole environment, `process.env` (OCI: exactly these variables); in
    /// container mode the runtime runs with the unit's environment and sets the container's.
    pub env: Vec<String>,
    /// The working directory the launcher changes to, when `WorkingDirectory=` cannot carry it.
    pub cwd: Option<String>,
    /// The leaf cgroup the payload runs in, below the delegated unit cgroup.
    pub leaf: String,
    /// Write failures in the launcher are warnings rather than setup failures.
    pub best_effort: bool,
}

impl Plan {
    pub fn destinations(&self) -> impl Iterator<Item = (&Mapping, &Destination)> {
        self.mappings
            .iter()
            .flat_map(|m| m.destinations.iter().map(move |d| (m, d)))
    }

    pub fn properties(&self) -> impl Iterator<Item = &Property> {
        self.destinations().filter_map(|(_, d)| match d {
            Destination::Property { property, .. } => Some(property),
            _ => None,
        })
    }

    /// Mappings that make the bundle invalid.
    pub fn errors(&self) -> Vec<(&Mapping, &str)> {
        self.destinations()
            .filter_map(|(m, d)| match d {
                Destination::Invalid { why } => Some((m, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// What ociunit adds to the runtime's config that the bundle did not ask for.
    pub fn additions(&self) -> Vec<(&Mapping, &str)> {
        self.destinations()
            .filter_map(|(m, d)| match d {
                Destination::Added { what } => Some((m, what.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Mappings whose meaning is lost on this target.
    pub fn drops(&self) -> Vec<(&Mapping, &str)> {
        self.destinations()
            .filter_map(|(m, d)| match d {
                Destination::Dropped { why } => Some((m, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// `Type=notify` when the bundle asks for readiness; else `Type=exec`, which reports a
    /// payload that cannot be executed as a failed start; systemd before 240 only has `simple`.
    pub fn service_type(&self) -> &'static str {
        if self.properties().any(|p| p.spec.key == NOTIFY_ACCESS.key) {
            "notify"
        } else if self.target.systemd >= 240 {
            "exec"
        } else {
            "simple"
        }
    }

    /// The leaf systemd starts the main process in from 254 on (`DelegateSubgroup=`): the
    /// launcher's own, the payload leaf unless the runtime needs a leaf of its own. Before 254
    /// the launcher creates it and moves itself in.
    pub fn delegate_subgroup(&self) -> Option<&str> {
        (self.target.systemd >= property::DELEGATE_SUBGROUP.since)
            .then(|| self.supervisor_leaf().unwrap_or(&self.leaf))
    }

    fn supervisor_leaf(&self) -> Option<&'static str> {
        self.container.as_ref()?.runtime.kind.supervisor_leaf()
    }

    /// The launcher's instructions. Cgroup writes come in mapping order (so `unified` keys,
    /// translated last, override), each distinct write once; the controllers are those every
    /// cgroup property needs, so a controller systemd could not delegate stops the launch
    /// instead of silently leaving a limit unapplied. With [`Spawner::Launcher`] the exec
    /// settings become launcher options too; those it cannot apply are returned.
    pub fn launch_spec(&self, spawner: Spawner) -> (LaunchSpec, Vec<&Property>) {
        let mut unapplied = Vec::new();
        let mut spec = LaunchSpec {
            leaf: Some(self.leaf.clone()),
            supervisor: self.supervisor_leaf().map(str::to_owned),
            best_effort: self.best_effort,
            clear_env: self.container.is_none(),
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            command: self.command.clone(),
            ..LaunchSpec::default()
        };
        // A set, not `writes.contains`: a bundle may have tens of thousands of writes.
        let mut seen = std::collections::HashSet::new();
        for (_, destination) in self.destinations() {
            let write = match destination {
                Destination::Property { property, .. }
                    if property.spec.class == Class::Exec && spawner == Spawner::Launcher =>
                {
                    if !exec_setting(property, &mut spec) {
                        unapplied.push(property);
                    }
                    None
                }
                Destination::Property { property, leaf } => {
                    if let Some(controller) = property.controller() {
                        if controller != "devices"
                            && !spec.controllers.iter().any(|c| c == controller)
                        {
                            spec.controllers.push(controller.to_owned());
                        }
                    }
                    leaf.as_ref()
                }
                Destination::Launcher { write, .. } => Some(write),
                _ => None,
            };
            if let Some(write) = write {
                if seen.insert(write) {
                    spec.writes.push(write.clone());
                }
            }
        }
        (spec, unapplied)
    }
}

/// Who starts the payload's process, and so applies the exec settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spawner {
    /// A service: systemd spawns the launcher with the exec settings applied.
    Systemd,
    /// A scope: systemd spawns nothing, the launcher applies them itself.
    Launcher,
}

/// The launcher option for an exec setting; false when the launcher has none (it cannot change
/// its user, grant capabilities, install a seccomp filter or change its security label).
fn exec_setting(property: &Property, spec: &mut LaunchSpec) -> bool {
    let value = |index: usize| property.dbus.get(index).map(|p| &p.value);
    match (property.spec.key, value(0), value(1)) {
        ("WorkingDirectory", Some(DbusValue::Str(dir)), _) => spec.cwd = Some(dir.clone()),
        ("UMask", Some(DbusValue::U32(umask)), _) => spec.umask = Some(*umask),
        ("OOMScoreAdjust", Some(DbusValue::I32(adj)), _) => spec.oom_score_adj = Some(*adj),
        ("NoNewPrivileges", Some(DbusValue::Bool(set)), _) => spec.no_new_privs = *set,
        // A scope has no start to wait for; the payload's READY=1 goes nowhere.
        ("NotifyAccess", ..) => {}
        ("CapabilityBoundingSet", Some(DbusValue::U64(mask)), _) => {
            spec.capability_bounding_set = Some(*mask);
        }
        (key, Some(DbusValue::U64(hard)), Some(DbusValue::U64(soft))) => {
            let Some(resource) = Resource::from_key(key) else {
                return false;
            };
            let finite = |v: u64| (v != u64::MAX).then_some(v);
            spec.rlimits.push(Rlimit {
                resource,
                soft: finite(*soft),
                hard: finite(*hard),
            });
        }
        _ => return false,
    }
    true
}
