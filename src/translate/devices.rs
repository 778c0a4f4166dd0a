//! `linux.resources.devices` → `DevicePolicy=strict` plus `DeviceAllow=` entries.
//!
//! OCI rules are applied in order and the last match wins; systemd only has an allow-list on top
//! of a policy. So we find the last rule that covers every device: before it nothing matters;
//! after an "allow all" only further allows fit (a deny-list has no systemd form); after a
//! "deny all" (or none, the runtimes' default) each allow becomes a `DeviceAllow=` entry.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::Translation;
use crate::plan::property::{DEVICE_ALLOW, DEVICE_POLICY, DbusValue, Property};
use crate::plan::{Destination, Mapping};
use crate::target::Manager;

/// The devices every OCI runtime makes available to a container, whatever the rules say
/// (runtime-spec "Default Devices"; crun's default list): null, zero, full, random, urandom,
/// tty, console, ptmx and the pseudo-terminals.
const DEFAULT_DEVICES: [&str; 9] = [
    "/dev/char/1:3",
    "/dev/char/1:5",
    "/dev/char/1:7",
    "/dev/char/1:8",
    "/dev/char/1:9",
    "/dev/char/5:0",
    "/dev/char/5:1",
    "/dev/char/5:2",
    "char-pts",
];

fn allow(path: &str, access: &str) -> Destination {
    Destination::Property {
        property: Property::new(
            &DEVICE_ALLOW,
            format!("{path} {access}"),
            DbusValue::PathStrings(vec![(path.to_owned(), access.to_owned())]),
        ),
        leaf: None,
    }
}

fn is_wildcard(number: Option<i64>) -> bool {
    matches!(number, None | Some(-1))
}

fn covers_everything(rule: &LinuxDeviceCgroup) -> bool {
    matches!(rule.typ(), None | Some(LinuxDeviceType::A))
        && is_wildcard(rule.major())
        && is_wildcard(rule.minor())
        && rule
            .access()
            .as_deref()
            .is_none_or(|a| ["r", "w", "m"].iter().all(|c| a.contains(c)))
}

pub fn translate(rules: &[LinuxDeviceCgroup], t: &mut Translation) {
    let last_wildcard = rules.iter().rposition(covers_everything);
    let allow_all = last_wildcard.is_some_and(|i| rules[i].allow());
    let user = t.target.manager == Manager::User;
    for (index, rule) in rules.iter().enumerate() {
        let mapping = t.field(format!("linux.resources.devices[{index}]"), rule);
        if last_wildcard.is_some_and(|last| index < last) {
            mapping.to(Destination::ignored(format!(
                "overridden by linux.resources.devices[{}]",
                last_wildcard.unwrap_or_default()
            )));
        } else if Some(index) == last_wildcard && allow_all {
            mapping.to(Destination::ignored(
                "all devices allowed: the default DevicePolicy=auto",
            ));
        } else if allow_all {
            if rule.allow() {
                mapping.to(Destination::ignored("already allowed"));
            } else {
                mapping.to(Destination::dropped(
                    "systemd has no deny-list: a device denied after \"allow all\" stays allowed",
                ));
            }
        } else if user {
            mapping.to(Destination::dropped(
                "a user manager cannot attach the BPF device filter: device rules are not \
                 enforced for --user units",
            ));
        } else if Some(index) == last_wildcard {
            deny_all(mapping);
        } else if !rule.allow() {
            mapping.to(Destination::ignored("denied already"));
        } else {
            allow_rule(rule, mapping);
        }
    }
    // No rule covers everything: the runtimes start from "deny all" plus the defaults.
    if last_wildcard.is_none() && !rules.is_empty() && !user {
        let mapping = t.field("linux.resources.devices", serde_json::Value::Null);
        deny_all(mapping);
    }
}

fn deny_all(mapping: &mut Mapping) {
    mapping
        .via("deny everything but the OCI default devices and the allow rules that follow")
        .to(Destination::property(
            &DEVICE_POLICY,
            "strict",
            DbusValue::Str("strict".into()),
        ));
    for path in DEFAULT_DEVICES {
        mapping.to(allow(path, "rwm"));
    }
}

fn allow_rule(rule: &LinuxDeviceCgroup, mapping: &mut Mapping) {
    let access = rule.access().clone().unwrap_or_else(|| "rwm".to_owned());
    if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
        mapping.to(Destination::invalid(format!(
            "access {access:?} is not a combination of r, w and m"
        )));
        return;
    }
    let kinds: &[&str] = match rule.typ() {
        Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => &["char"],
        Some(LinuxDeviceType::B) => &["block"],
        _ => &["char", "block"],
    };
    for kind in kinds {
        let path = match (rule.major(), rule.minor()) {
            (major, minor) if is_wildcard(major) && is_wildcard(minor) => format!("{kind}-*"),
            (Some(major), Some(minor)) if major >= 0 && minor >= 0 => {
                format!("/dev/{kind}/{major}:{minor}")
            }
            (Some(136), minor) if *kind == "char" && is_wildcard(minor) => "char-pts".to_owned(),
            _ => {
                mapping.to(Destination::dropped(
                    "systemd names a whole major only by its /proc/devices group, and a minor \
                     without a major not at all",
                ));
                continue;
            }
        };
        mapping.to(allow(&path, &access));
    }
}
