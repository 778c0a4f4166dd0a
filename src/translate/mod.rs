//! Stage 2: OCI spec → plan. One file per resource family; each records, for every field present
//! in the bundle, where it went (see `plan::Destination`).

mod annotations;
mod block_io;
mod container;
pub mod cpu;
mod devices;
mod hugepages;
mod idmap;
pub mod memory;
mod pids;
mod process;
mod rdma;
mod readiness;
mod seccomp;
mod security;
mod stop_signal;
mod unified;
mod unsupported;

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::bundle::Bundle;
use crate::plan::container::Container;
use crate::plan::{DEFAULT_LEAF, Destination, Mapping, Plan, Source};
use crate::runtime::Mode;
use crate::runtime::config::Adjustment;
use crate::target::Target;

/// Choices that are not in the bundle.
#[derive(Clone, Debug)]
pub struct Options {
    pub target: Target,
    /// The full unit name, `NAME.service`.
    pub unit: String,
    pub best_effort: bool,
    /// The uid the user manager runs as; a rootless bundle's uid 0 means this user.
    pub manager_uid: u32,
}

/// The mappings being collected.
pub struct Translation {
    pub target: Target,
    pub manager_uid: u32,
    /// How `process.user` reaches the host (`linux.uidMappings`).
    pub userns: idmap::UserNamespace,
    pub mappings: Vec<Mapping>,
    /// `process.cwd` when the launcher changes to it rather than `WorkingDirectory=`.
    pub cwd: Option<String>,
}

impl Translation {
    /// Starts the record of one field.
    pub fn field(&mut self, path: impl Into<String>, value: impl Serialize) -> &mut Mapping {
        self.mappings.push(Mapping {
            path: path.into(),
            value: serde_json::to_value(value).unwrap_or(Value::Null),
            conversion: None,
            destinations: Vec::new(),
        });
        self.mappings.last_mut().expect("just pushed")
    }
}

/// Translates the bundle; with a `container`, the runtime applies the process and the rest
/// of what is not a resource, `adjustments` being the changes made to its config.
pub fn translate(
    bundle: &Bundle,
    options: &Options,
    mode: Mode,
    container: Option<Container>,
    adjustments: &[Adjustment],
) -> Plan {
    let mut t = Translation {
        target: options.target,
        manager_uid: options.manager_uid,
        userns: idmap::UserNamespace::read(&bundle.spec, &bundle.raw),
        mappings: Vec::new(),
        cwd: None,
    };
    if let Some(note) = &bundle.version_note {
        t.field("ociVersion", bundle.spec.version())
            .to(crate::plan::Destination::ignored(note.clone()));
    }
    for reading in &bundle.readings {
        t.field(reading.path.clone(), &reading.value)
            .to(crate::plan::Destination::ignored(reading.why));
    }
    let (command, env) = match (&container, bundle.spec.process()) {
        (Some(container), _) => {
            let runtime = container.runtime.kind.name();
            container::translate(&bundle.raw, runtime, adjustments, &mut t);
            (container.command(), Vec::new())
        }
        (None, Some(process)) => {
            let translated = process::translate(process, &mut t);
            // Host mode's own: a container mode leaves capabilities and labels to the runtime.
            security::translate(process, &mut t);
            translated
        }
        (None, None) => {
            t.field("process", Value::Null)
                .to(crate::plan::Destination::invalid(
                    "missing: a unit needs a command (process.args)",
                ));
            (Vec::new(), Vec::new())
        }
    };
    if let Some(resources) = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.resources().as_ref())
    {
        if let Some(memory) = resources.memory() {
            memory::translate(memory, &mut t);
        }
        if let Some(cpu) = resources.cpu() {
            cpu::translate(cpu, &mut t);
        }
        if let Some(pids) = resources.pids() {
            pids::translate(*pids, &mut t);
        }
        if let Some(block_io) = resources.block_io() {
            block_io::translate(block_io, &mut t);
        }
        if let Some(limits) = resources.hugepage_limits() {
            hugepages::translate(limits, &mut t);
        }
        if let Some(network) = resources.network() {
            unsupported::network(network, &mut t);
        }
        if let Some(rdma) = resources.rdma() {
            rdma::translate(rdma, &mut t);
        }
        if let Some(devices) = resources.devices() {
            devices::translate(devices, &mut t);
        }
        // Last, so that a unified key overrides the field it shadows, as in crun and runc.
        if let Some(unified) = resources.unified() {
            unified::translate(unified, &mut t);
        }
    }
    // Host mode's own, like the capabilities: a container mode leaves the identity and the
    // filter to the runtime.
    if container.is_none() {
        idmap::translate(&bundle.spec, &bundle.raw, &mut t);
        if let Some(filter) = bundle
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
        {
            seccomp::translate(filter, &mut t);
        }
    }
    stop_signal::translate(&bundle.raw, &mut t);
    readiness::translate(&bundle.raw, container.is_some(), &mut t);
    // After the resources, whose fields win over an annotation for the same property.
    if let Some(annotations) = bundle.spec.annotations() {
        annotations::translate(annotations, &mut t);
    }
    unsupported::translate(&bundle.raw, container.is_some(), &mut t);

    Plan {
        unit: options.unit.clone(),
        target: options.target,
        source: Source {
            config: bundle.config.clone(),
            sha256: bundle.sha256.clone(),
        },
        mode,
        container,
        mappings: t.mappings,
        command,
        env,
        cwd: t.cwd,
        leaf: DEFAULT_LEAF.to_owned(),
        best_effort: options.best_effort,
    }
}

/// Why a v1-only field is dropped.
pub const V1_ONLY: &str = "cgroup v1 only: cgroup v2 has no equivalent";

/// A property set twice (a `unified` key shadowing its OCI field, `cpu.idle` over the shares'
/// weight) keeps only its last assignment, as systemd would; the earlier one says so. Properties
/// that accumulate entries (`DeviceAllow=`, `IO*Max=` per device) are left alone.
pub fn mark_overridden(mappings: &mut [Mapping]) {
    let single_valued = |d: &Destination| match d {
        Destination::Property { property, .. } => property
            .dbus
            .iter()
            .all(|p| !p.signature.starts_with("a("))
            .then_some(property.key),
        _ => None,
    };
    // From the last mapping back, each key remembers the latest mapping that sets it.
    let mut latest: HashMap<&'static str, String> = HashMap::new();
    for mapping in mappings.iter_mut().rev() {
        let mut keys = Vec::new();
        for destination in &mut mapping.destinations {
            let Some(key) = single_valued(destination) else {
                continue;
            };
            match latest.get(key) {
                Some(path) => *destination = Destination::ignored(format!("overridden by {path}")),
                None => keys.push(key),
            }
        }
        for key in keys {
            latest.insert(key, mapping.path.clone());
        }
    }
}
