//! `process.capabilities`, `apparmorProfile` and `selinuxLabel` in host mode:
//! `CapabilityBoundingSet=`, `AmbientCapabilities=`, `AppArmorProfile=`, `SELinuxContext=`.
//!
//! The rule is that the payload never gets more than the runtimes would give it. runc and crun
//! set the five capability sets with capset(2) and then execve(2) the payload, so what the
//! payload ends up with is what the kernel's execve rules make of them: a root process gets its
//! bounding set as permitted and effective set, a non-root one only its ambient set. A bundle
//! without `process.capabilities` gets every set empty. Capabilities inside a user namespace are
//! not host capabilities: on the host such a payload gets none. A container mode, where the
//! runtime applies all of this, skips this module.

use oci_spec::runtime::{Capabilities, LinuxCapabilities, Process};
use serde_json::{Value, json};

use super::Translation;
use super::idmap::{HostId, Id};
use crate::capability;
use crate::plan::property::{
    AMBIENT_CAPABILITIES, APPARMOR_PROFILE, CAPABILITY_BOUNDING_SET, DbusValue, PropertySpec,
    SELINUX_CONTEXT,
};
use crate::plan::{Destination, Mapping};
use crate::target::Manager;

pub fn translate(process: &Process, t: &mut Translation) {
    capabilities(process, t);
    labels(process, t);
}

/// The five sets as masks; a missing set is empty, as runc and crun read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sets {
    bounding: u64,
    effective: u64,
    permitted: u64,
    inheritable: u64,
    ambient: u64,
}

impl Sets {
    fn of(capabilities: &LinuxCapabilities) -> Sets {
        let mask = |set: &Option<Capabilities>| {
            set.iter().flatten().fold(0, |mask, cap| {
                // oci-spec only parses the names it knows, all of which are in the table.
                let name = json!(cap);
                mask | name.as_str().and_then(capability::bit).unwrap_or(0)
            })
        };
        Sets {
            bounding: mask(capabilities.bounding()),
            effective: mask(capabilities.effective()),
            permitted: mask(capabilities.permitted()),
            inheritable: mask(capabilities.inheritable()),
            ambient: mask(capabilities.ambient()),
        }
    }

    /// What the kernel lets a process keep in its ambient set.
    fn usable_ambient(self) -> u64 {
        self.ambient & self.permitted & self.inheritable & self.bounding
    }
}

fn capability_property(spec: &'static PropertySpec, mask: u64) -> Destination {
    Destination::property(
        spec,
        capability::names(mask).join(" "),
        DbusValue::U64(mask),
    )
}

fn capabilities(process: &Process, t: &mut Translation) {
    let system = t.target.manager == Manager::System;
    let present = process.capabilities().as_ref();
    if present.is_none() && !system {
        // A user unit's payload has no capabilities whatever the bundle says.
        return;
    }
    let sets = present.map(Sets::of).unwrap_or_default();
    let value = present.map_or(Value::Null, sorted_sets);
    let uid = process.user().uid();
    let in_namespace = t.userns.exists();
    let root = t.userns.host(Id::User, uid) == Ok(HostId::Mapped(0));
    let no_new_privs = process.no_new_privileges() == Some(true);
    let mapping = t.field("process.capabilities", value);
    if !system {
        user_manager(mapping, sets, no_new_privs);
    } else if in_namespace {
        mapping
            .via(
                "capabilities in a user namespace are not host capabilities: the payload gets \
                 none on the host (CapabilityBoundingSet= empty)",
            )
            .to(capability_property(&CAPABILITY_BOUNDING_SET, 0));
    } else if present.is_none() {
        mapping
            .via("absent: runc and crun start the process with every capability set empty")
            .to(capability_property(&CAPABILITY_BOUNDING_SET, 0));
    } else if root {
        mapping
            .via(
                "execve(2) gives a root process its bounding set as permitted and effective set, \
                 so CapabilityBoundingSet = bounding ∩ permitted; the effective, inheritable and \
                 ambient sets add nothing for root",
            )
            .to(capability_property(
                &CAPABILITY_BOUNDING_SET,
                sets.bounding & sets.permitted,
            ));
    } else {
        let ambient = sets.usable_ambient();
        mapping.via(
            "a non-root process keeps only its ambient set across execve(2): \
             AmbientCapabilities = ambient ∩ permitted ∩ inheritable ∩ bounding (what the kernel \
             allows in the ambient set); CapabilityBoundingSet = bounding, the most set-user-ID \
             programs can gain",
        );
        mapping.to(capability_property(&CAPABILITY_BOUNDING_SET, sets.bounding));
        if ambient != 0 {
            mapping.to(capability_property(&AMBIENT_CAPABILITIES, ambient));
        }
    }
}

/// A user manager runs the payload as its own unprivileged user, with no capabilities, and can
/// neither grant any nor shrink the bounding set: both settings make systemd fail the unit with
/// 218/CAPABILITIES (checked on 252 and 257).
fn user_manager(mapping: &mut Mapping, sets: Sets, no_new_privs: bool) {
    if sets.usable_ambient() != 0 {
        mapping.to(Destination::dropped(
            "a user manager cannot grant capabilities (AmbientCapabilities= fails the unit with \
             218/CAPABILITIES): the payload runs as your user without any",
        ));
    }
    if sets.bounding & capability::ALL == capability::ALL {
        if sets.usable_ambient() == 0 {
            mapping.to(Destination::ignored(
                "the payload runs as your user, without capabilities",
            ));
        }
    } else if no_new_privs {
        mapping.to(Destination::ignored(
            "the payload runs as your user without capabilities, and no_new_privs keeps it from \
             gaining any, so the bounding set restricts nothing",
        ));
    } else {
        mapping.to(Destination::dropped(
            "a user manager cannot shrink the bounding set (CapabilityBoundingSet= fails the unit \
             with 218/CAPABILITIES): the payload starts without capabilities but could gain some \
             outside the bundle's bounding set through set-user-ID or file-capability programs; \
             \"noNewPrivileges\": true rules that out",
        ));
    }
}

/// The capability sets in a stable order: oci-spec keeps them in hash sets, and explain output
/// must not change from one run to the next.
fn sorted_sets(capabilities: &LinuxCapabilities) -> Value {
    let mut value = json!(capabilities);
    if let Some(sets) = value.as_object_mut() {
        for set in sets.values_mut().filter_map(Value::as_array_mut) {
            set.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    value
}

/// `apparmorProfile` and `selinuxLabel`. Both settings strip surrounding whitespace, read a
/// leading `-` as "ignore failures" and expand specifiers (escaped when written), so a label
/// that would change on the way is refused rather than applied differently.
fn labels(process: &Process, t: &mut Translation) {
    let system = t.target.manager == Manager::System;
    let labels = [
        (
            "process.apparmorProfile",
            process.apparmor_profile(),
            &APPARMOR_PROFILE,
        ),
        (
            "process.selinuxLabel",
            process.selinux_label(),
            &SELINUX_CONTEXT,
        ),
    ];
    for (path, label, spec) in labels {
        let Some(label) = label else { continue };
        let mapping = t.field(path, label);
        if label.is_empty() {
            mapping.to(Destination::ignored("empty: no label, as in runc"));
        } else if label.trim() != label || label.starts_with('-') || label.ends_with('\\') {
            mapping.to(Destination::invalid(
                "surrounding whitespace, a leading '-' or a trailing '\\' would change its \
                 meaning in a unit file",
            ));
        } else if label.chars().any(char::is_control) {
            mapping.to(Destination::invalid("contains a control character"));
        } else if !system {
            mapping.to(Destination::dropped(format!(
                "systemd applies {}= only to system services (systemd.exec(5), \"Mandatory Access \
                 Control\"); a user unit's payload runs unconfined",
                spec.key
            )));
        } else {
            // AppArmorProfile is (bs) on the bus, (ignore-failure, profile); SELinuxContext is
            // a plain string (dbus-execute.c).
            let dbus = if spec.key == APPARMOR_PROFILE.key {
                DbusValue::FlagString(false, label.clone())
            } else {
                DbusValue::Str(label.clone())
            };
            mapping.to(Destination::property(spec, label.clone(), dbus));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::property::Property;
    use crate::target::Target;
    use crate::translate::idmap::UserNamespace;

    #[allow(
        clippy::needless_pass_by_value,
        reason = "the tests pass json! documents"
    )]
    fn run(process: Value, manager: Manager, linux: Value) -> Vec<Mapping> {
        let raw = json!({"ociVersion": "1.0.2", "process": process, "linux": linux});
        let spec: oci_spec::runtime::Spec = serde_json::from_value(raw.clone()).unwrap();
        let mut t = Translation {
            target: Target {
                manager,
                systemd: 257,
            },
            manager_uid: 1000,
            userns: UserNamespace::read(&spec, &raw),
            mappings: Vec::new(),
            cwd: None,
        };
        translate(spec.process().as_ref().unwrap(), &mut t);
        t.mappings
    }

    fn properties(mappings: &[Mapping]) -> Vec<(&'static str, String, DbusValue)> {
        mappings
            .iter()
            .flat_map(|m| &m.destinations)
            .filter_map(|d| match d {
                Destination::Property {
                    property:
                        Property {
                            key, value, dbus, ..
                        },
                    ..
                } => Some((*key, value.clone(), dbus[0].value.clone())),
                _ => None,
            })
            .collect()
    }

    fn three() -> Value {
        json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    }

    const THREE: u64 = (1 << 5) | (1 << 10) | (1 << 29);

    #[test]
    fn root_gets_bounding_and_permitted() {
        let caps = json!({"bounding": three(), "permitted": ["CAP_KILL", "CAP_SYS_ADMIN"],
                          "effective": three(), "ambient": three()});
        let process = json!({"user": {"uid": 0, "gid": 0}, "args": ["x"], "cwd": "/",
                             "capabilities": caps});
        let got = properties(&run(process, Manager::System, json!({})));
        assert_eq!(
            got,
            [(
                "CapabilityBoundingSet",
                "CAP_KILL".into(),
                DbusValue::U64(1 << 5)
            )]
        );
    }

    #[test]
    fn no_capabilities_means_none() {
        let process = json!({"user": {"uid": 0, "gid": 0}, "args": ["x"], "cwd": "/"});
        let got = properties(&run(process.clone(), Manager::System, json!({})));
        assert_eq!(
            got,
            [("CapabilityBoundingSet", String::new(), DbusValue::U64(0))]
        );
        assert!(run(process, Manager::User, json!({})).is_empty());
    }

    #[test]
    fn non_root_gets_the_usable_ambient_set() {
        let caps = json!({"bounding": three(), "permitted": three(), "inheritable": ["CAP_KILL"],
                          "ambient": three()});
        let process = json!({"user": {"uid": 1000, "gid": 1000}, "args": ["x"], "cwd": "/",
                             "capabilities": caps});
        let got = properties(&run(process, Manager::System, json!({})));
        assert_eq!(got[0].2, DbusValue::U64(THREE));
        assert_eq!(
            got[1],
            (
                "AmbientCapabilities",
                "CAP_KILL".into(),
                DbusValue::U64(1 << 5)
            )
        );
        // runc spec has no inheritable set: its ambient set cannot be raised.
        let caps = json!({"bounding": three(), "permitted": three(), "ambient": three()});
        let process = json!({"user": {"uid": 1000, "gid": 1000}, "args": ["x"], "cwd": "/",
                             "capabilities": caps});
        assert_eq!(
            properties(&run(process, Manager::System, json!({}))).len(),
            1
        );
    }

    #[test]
    fn a_user_namespace_grants_no_host_capabilities() {
        let caps = json!({"bounding": three(), "permitted": three(), "inheritable": three(),
                          "ambient": three()});
        let process = json!({"user": {"uid": 0, "gid": 0}, "args": ["x"], "cwd": "/",
                             "capabilities": caps});
        let linux = json!({"uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}],
                           "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]});
        let got = properties(&run(process, Manager::System, linux));
        assert_eq!(
            got,
            [("CapabilityBoundingSet", String::new(), DbusValue::U64(0))]
        );
    }

    #[test]
    fn a_user_manager_applies_nothing_and_says_so() {
        let kinds = |process: Value| -> Vec<&'static str> {
            run(process, Manager::User, json!({}))
                .iter()
                .flat_map(|m| m.destinations.iter())
                .map(|d| match d {
                    Destination::Ignored { .. } => "ignored",
                    Destination::Dropped { .. } => "dropped",
                    _ => "other",
                })
                .collect()
        };
        let caps = json!({"bounding": three(), "permitted": three(), "inheritable": three(),
                          "ambient": three()});
        let process = json!({"user": {"uid": 0, "gid": 0}, "args": ["x"], "cwd": "/",
                             "capabilities": caps});
        assert_eq!(kinds(process.clone()), ["dropped", "dropped"]);
        let mut nnp = process;
        nnp["noNewPrivileges"] = json!(true);
        assert_eq!(kinds(nnp), ["dropped", "ignored"]);
    }

    #[test]
    fn labels_reach_the_unit_unchanged_or_not_at_all() {
        let process = |label: &str| {
            json!({"user": {"uid": 0, "gid": 0}, "args": ["x"], "cwd": "/",
                   "capabilities": {}, "apparmorProfile": label, "selinuxLabel": label})
        };
        let got = properties(&run(process("my%profile"), Manager::System, json!({})));
        assert_eq!(
            got[1],
            (
                "AppArmorProfile",
                "my%profile".into(),
                DbusValue::FlagString(false, "my%profile".into())
            )
        );
        assert_eq!(
            got[2],
            (
                "SELinuxContext",
                "my%profile".into(),
                DbusValue::Str("my%profile".into())
            )
        );
        for bad in ["-x", " x", "x ", "x\\", "a\nb"] {
            let mappings = run(process(bad), Manager::System, json!({}));
            let invalid = mappings
                .iter()
                .flat_map(|m| &m.destinations)
                .filter(|d| matches!(d, Destination::Invalid { .. }))
                .count();
            assert_eq!(invalid, 2, "{bad:?}");
        }
    }
}
