//! `linux.resources.devices` → `DevicePolicy=strict` plus `DeviceAllow=` entries.
//!
//! OCI rules are applied in order and the last match wins; systemd only has an allow-list on top
//! of a policy. So we find the last rule that covers every device: before it nothing matters;
//! after an "allow all" only further allows fit (a deny-list has no systemd form); after a
//! "deny all" (or none, the runtimes' default) the allows become `DeviceAllow=` entries, and a
//! later deny takes access back from the entries it covers. A deny that would carve a device
//! out of a wider allow has no systemd form and is dropped with a warning.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::Translation;
use crate::plan::property::{DEVICE_ALLOW, DEVICE_POLICY, DbusValue, Property};
use crate::plan::{Destination, Mapping};
use crate::target::Manager;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Char,
    Block,
}

/// Device numbers: `None` is the wildcard.
type Number = Option<u32>;

/// One allowed device (or group of devices) and its access.
#[derive(Clone, Debug)]
struct Entry {
    /// The rule it came from; `None` for the OCI default devices.
    rule: Option<usize>,
    kind: Kind,
    major: Number,
    minor: Number,
    access: String,
    /// The rules that took access back from it.
    narrowed_by: Vec<usize>,
}

/// The devices every OCI runtime makes available to a container, whatever the rules say
/// (runtime-spec "Default Devices"; crun's default list): null, zero, full, random, urandom,
/// tty, console, ptmx and the pseudo-terminals.
const DEFAULT_DEVICES: [(u32, Number); 9] = [
    (1, Some(3)),
    (1, Some(5)),
    (1, Some(7)),
    (1, Some(8)),
    (1, Some(9)),
    (5, Some(0)),
    (5, Some(1)),
    (5, Some(2)),
    (136, None),
];

impl Entry {
    /// The `DeviceAllow=` path, if systemd can name the devices: `/dev/char/M:m`, `char-*`,
    /// and for a whole major only the group systemd finds in /proc/devices (pts for 136).
    fn path(&self) -> Option<String> {
        let kind = match self.kind {
            Kind::Char => "char",
            Kind::Block => "block",
        };
        match (self.major, self.minor) {
            (None, None) => Some(format!("{kind}-*")),
            (Some(major), Some(minor)) => Some(format!("/dev/{kind}/{major}:{minor}")),
            (Some(136), None) if self.kind == Kind::Char => Some("char-pts".to_owned()),
            _ => None,
        }
    }
}

fn number(value: Option<i64>) -> Result<Number, String> {
    match value {
        None | Some(-1) => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| format!("{n} is not a device number")),
    }
}

fn kinds(rule: &LinuxDeviceCgroup) -> Result<&'static [Kind], String> {
    match rule.typ() {
        Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => Ok(&[Kind::Char]),
        Some(LinuxDeviceType::B) => Ok(&[Kind::Block]),
        None | Some(LinuxDeviceType::A) => Ok(&[Kind::Char, Kind::Block]),
        Some(LinuxDeviceType::P) => Err("a FIFO is not a device the cgroup controls".to_owned()),
    }
}

fn access(rule: &LinuxDeviceCgroup) -> Result<String, String> {
    let access = rule.access().clone().unwrap_or_else(|| "rwm".to_owned());
    if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
        return Err(format!(
            "access {access:?} is not a combination of r, w and m"
        ));
    }
    Ok(access)
}

fn covers_everything(rule: &LinuxDeviceCgroup) -> bool {
    matches!(rule.typ(), None | Some(LinuxDeviceType::A))
        && matches!(rule.major(), None | Some(-1))
        && matches!(rule.minor(), None | Some(-1))
        && rule
            .access()
            .as_deref()
            .is_none_or(|a| ["r", "w", "m"].iter().all(|c| a.contains(c)))
}

fn allow(path: String, access: &str) -> Destination {
    Destination::Property {
        property: Property::new(
            &DEVICE_ALLOW,
            format!("{path} {access}"),
            DbusValue::PathStrings(vec![(path, access.to_owned())]),
        ),
        leaf: None,
    }
}

pub fn translate(rules: &[LinuxDeviceCgroup], t: &mut Translation) {
    let last_wildcard = rules.iter().rposition(covers_everything);
    let allow_all = last_wildcard.is_some_and(|i| rules[i].allow());
    let user = t.target.manager == Manager::User;
    let first = last_wildcard.map_or(0, |i| i + 1);
    let applied = apply(&rules[first..], first);
    for (index, rule) in rules.iter().enumerate() {
        let mapping = t.field(format!("linux.resources.devices[{index}]"), rule);
        if let Some(last) = last_wildcard.filter(|last| index < *last) {
            mapping.to(Destination::ignored(format!(
                "overridden by linux.resources.devices[{last}]"
            )));
        } else if allow_all && Some(index) == last_wildcard {
            mapping.to(Destination::ignored(
                "all devices allowed: the default DevicePolicy=auto",
            ));
        } else if allow_all && rule.allow() {
            mapping.to(Destination::ignored("already allowed"));
        } else if allow_all {
            mapping.to(Destination::dropped(
                "systemd has no deny-list: a device denied after \"allow all\" stays allowed",
            ));
        } else if user {
            mapping.to(Destination::dropped(
                "a user manager cannot attach the BPF device filter: device rules are not \
                 enforced for --user units",
            ));
        } else if Some(index) == last_wildcard {
            deny_all(mapping, &applied.entries);
        } else {
            applied.record(index, mapping);
        }
    }
    // No rule covers everything: the runtimes start from "deny all" plus the defaults.
    if last_wildcard.is_none() && !rules.is_empty() && !user {
        deny_all(
            t.field("linux.resources.devices", serde_json::Value::Null),
            &applied.entries,
        );
    }
}

/// What became of one rule after the deny-all.
enum Effect {
    Allowed,
    /// A deny, and the rules whose entries it narrowed (`None`: the default devices).
    Narrowed(Vec<Option<usize>>),
    DeniedAlready,
    /// A deny inside a wider allow of that rule (`None`: a default device group).
    Unexpressible(Option<usize>),
    /// An allow systemd cannot name.
    Unnamed,
}

/// The rules after the deny-all, applied in order to the default devices.
struct Applied {
    /// Each rule's effect, by its index in the rule list.
    effects: Vec<(usize, Result<Effect, String>)>,
    /// The allowed devices after every rule.
    entries: Vec<Entry>,
}

fn apply(rules: &[LinuxDeviceCgroup], first: usize) -> Applied {
    let mut entries: Vec<Entry> = DEFAULT_DEVICES
        .iter()
        .map(|&(major, minor)| Entry {
            rule: None,
            kind: Kind::Char,
            major: Some(major),
            minor,
            access: "rwm".to_owned(),
            narrowed_by: Vec::new(),
        })
        .collect();
    let mut effects = Vec::new();
    for (offset, rule) in rules.iter().enumerate() {
        let index = first + offset;
        let parsed = kinds(rule).and_then(|kinds| {
            Ok((
                kinds,
                number(rule.major())?,
                number(rule.minor())?,
                access(rule)?,
            ))
        });
        let effect = parsed.map(|(kinds, major, minor, access)| {
            if !rule.allow() {
                return deny(&mut entries, index, kinds, major, minor, &access);
            }
            let new: Vec<Entry> = kinds
                .iter()
                .map(|&kind| Entry {
                    rule: Some(index),
                    kind,
                    major,
                    minor,
                    access: access.clone(),
                    narrowed_by: Vec::new(),
                })
                .collect();
            if new.iter().any(|e| e.path().is_none()) {
                return Effect::Unnamed;
            }
            entries.extend(new);
            Effect::Allowed
        });
        effects.push((index, effect));
    }
    Applied { effects, entries }
}

fn deny(
    entries: &mut [Entry],
    index: usize,
    kinds: &[Kind],
    major: Number,
    minor: Number,
    access: &str,
) -> Effect {
    let matches = |deny: Number, entry: Number| deny.is_none() || deny == entry;
    let overlaps = |deny: Number, entry: Number| deny.is_none() || entry.is_none() || deny == entry;
    let touched = |e: &Entry| {
        kinds.contains(&e.kind)
            && e.access.chars().any(|c| access.contains(c))
            && overlaps(major, e.major)
            && overlaps(minor, e.minor)
    };
    if let Some(wider) = entries
        .iter()
        .filter(|e| touched(e))
        .find(|e| !matches(major, e.major) || !matches(minor, e.minor))
    {
        return Effect::Unexpressible(wider.rule);
    }
    let mut narrowed = Vec::new();
    for entry in entries.iter_mut().filter(|e| touched(e)) {
        entry.access.retain(|c| !access.contains(c));
        entry.narrowed_by.push(index);
        if !narrowed.contains(&entry.rule) {
            narrowed.push(entry.rule);
        }
    }
    if narrowed.is_empty() {
        Effect::DeniedAlready
    } else {
        Effect::Narrowed(narrowed)
    }
}

fn rule_name(rule: Option<usize>) -> String {
    match rule {
        Some(rule) => format!("linux.resources.devices[{rule}]"),
        None => "the default devices".to_owned(),
    }
}

impl Applied {
    fn record(&self, index: usize, mapping: &mut Mapping) {
        let Some((_, effect)) = self.effects.iter().find(|(i, _)| *i == index) else {
            return;
        };
        match effect {
            Err(why) => {
                mapping.to(Destination::invalid(why.clone()));
            }
            Ok(Effect::Allowed) => {
                for (position, entry) in self.entries.iter().enumerate() {
                    if entry.rule != Some(index) {
                        continue;
                    }
                    let earlier = self.entries[..position].iter().find(|e| {
                        e.path() == entry.path()
                            && entry.access.chars().all(|c| e.access.contains(c))
                    });
                    match earlier {
                        Some(e) => mapping.to(Destination::ignored(format!(
                            "already allowed by {}",
                            rule_name(e.rule)
                        ))),
                        None => emit(mapping, entry),
                    };
                }
            }
            Ok(Effect::Narrowed(rules)) => {
                let from: Vec<String> = rules.iter().map(|r| rule_name(*r)).collect();
                mapping.to(Destination::ignored(format!(
                    "takes access back from {}",
                    from.join(", ")
                )));
            }
            Ok(Effect::DeniedAlready) => {
                mapping.to(Destination::ignored("denied already"));
            }
            Ok(Effect::Unexpressible(rule)) => {
                mapping.to(Destination::dropped(format!(
                    "systemd's allow-list cannot carve these devices out of the wider allow of {}",
                    rule_name(*rule)
                )));
            }
            Ok(Effect::Unnamed) => {
                mapping.to(Destination::dropped(
                    "systemd names a whole major only by its /proc/devices group, and a minor \
                     without a major not at all",
                ));
            }
        }
    }
}

/// One `DeviceAllow=` line for an entry, unless a later deny took all its access away.
fn emit<'a>(mapping: &'a mut Mapping, entry: &Entry) -> &'a mut Mapping {
    let Some(path) = entry.path() else {
        return mapping;
    };
    let denied_by = entry
        .narrowed_by
        .last()
        .map(|r| rule_name(Some(*r)))
        .unwrap_or_default();
    if entry.access.is_empty() {
        return mapping.to(Destination::ignored(format!(
            "{path}: all access taken back by {denied_by}"
        )));
    }
    if !entry.narrowed_by.is_empty() {
        mapping.via(format!("narrowed to {} by {denied_by}", entry.access));
    }
    mapping.to(allow(path, &entry.access))
}

fn deny_all(mapping: &mut Mapping, entries: &[Entry]) {
    mapping
        .via("deny everything but the OCI default devices and the allow rules that follow")
        .to(Destination::property(
            &DEVICE_POLICY,
            "strict",
            DbusValue::Str("strict".into()),
        ));
    for entry in entries.iter().filter(|e| e.rule.is_none()) {
        emit(mapping, entry);
    }
}
