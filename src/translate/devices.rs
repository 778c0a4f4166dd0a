//! `linux.resources.devices` → `DevicePolicy=strict` plus `DeviceAllow=` entries.
//!
//! OCI rules are applied in order and the last match wins; systemd only has an allow-list on top
//! of a policy. So we find the last rule that covers every device: before it nothing matters;
//! after an "allow all" only further allows fit (a deny-list has no systemd form); after a
//! "deny all" (or none, the runtimes' default) the allows become `DeviceAllow=` entries, and a
//! later deny takes access back from the entries it covers. A deny that would carve a device
//! out of a wider allow has no systemd form and is dropped with a warning.
//!
//! Every rule is checked first, whatever the target: a rule that is wrong is wrong even where
//! rules are not enforced (a user manager) or do not matter (before an "allow all").
//!
//! A deny looks up only the entries it can reach (see [`Reach`]) rather than every entry, and
//! each entry it touches loses access for good, so bundles with 100 000 rules (generated device
//! lists) compile in linear time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::Translation;
use crate::plan::property::{DEVICE_ALLOW, DEVICE_POLICY, DbusValue, Property};
use crate::plan::{Destination, Mapping};
use crate::target::Manager;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Char,
    Block,
}

/// Device numbers: `None` is the wildcard.
type Number = Option<u32>;

/// The devices an allowed entry stands for. A minor under every major is not among them:
/// systemd has no name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Devices {
    One(u32, u32),
    /// Every minor of a major.
    Major(u32),
    All,
}

impl Devices {
    fn of(major: Number, minor: Number) -> Option<Devices> {
        match (major, minor) {
            (Some(major), Some(minor)) => Some(Devices::One(major, minor)),
            (Some(major), None) => Some(Devices::Major(major)),
            (None, None) => Some(Devices::All),
            (None, Some(_)) => None,
        }
    }

    /// The denies that reach an entry for these devices.
    fn reached_by(self) -> impl Iterator<Item = Reach> {
        let reaches = match self {
            Devices::One(major, minor) => [
                Reach::One(major, minor),
                Reach::Major(major),
                Reach::Minor(minor),
                Reach::Every,
            ]
            .map(Some),
            Devices::Major(major) => [
                Reach::InMajor(major),
                Reach::Major(major),
                Reach::InAnyMajor,
                Reach::Every,
            ]
            .map(Some),
            Devices::All => [Some(Reach::InAll), Some(Reach::Every), None, None],
        };
        reaches.into_iter().flatten()
    }
}

/// An index key: the denies an entry must be found by. An entry is filed under each reach of
/// [`Devices::reached_by`]; a deny of `major:minor` looks under those of [`deny_reaches`]. The
/// `In*` reaches find the wider entries a deny cannot be carved out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Reach {
    /// A deny of this one device.
    One(u32, u32),
    /// A deny of every minor of this major.
    Major(u32),
    /// A deny of this minor under every major.
    Minor(u32),
    /// A deny of one device of this whole-major entry: it cannot be carved out.
    InMajor(u32),
    /// A deny of one minor under every major, which cannot be carved out of a whole major.
    InAnyMajor,
    /// A deny of some devices, which cannot be carved out of an all-devices entry.
    InAll,
    /// A deny of every device.
    Every,
}

/// What a deny of `major:minor` looks up: the entries it narrows, and the wider entries it
/// cannot be carved out of.
fn deny_reaches(major: Number, minor: Number) -> (Reach, [Option<Reach>; 2]) {
    match (major, minor) {
        (Some(major), Some(minor)) => (
            Reach::One(major, minor),
            [Some(Reach::InMajor(major)), Some(Reach::InAll)],
        ),
        (Some(major), None) => (Reach::Major(major), [Some(Reach::InAll), None]),
        (None, Some(minor)) => (
            Reach::Minor(minor),
            [Some(Reach::InAnyMajor), Some(Reach::InAll)],
        ),
        (None, None) => (Reach::Every, [None, None]),
    }
}

/// One allowed device (or group of devices) and its access.
#[derive(Clone, Debug)]
struct Entry {
    /// The rule it came from; `None` for the OCI default devices.
    rule: Option<usize>,
    kind: Kind,
    devices: Devices,
    access: String,
    /// The rules that took access back from it.
    narrowed_by: Vec<usize>,
}

/// The devices every OCI runtime makes available to a container, whatever the rules say
/// (runtime-spec "Default Devices"; crun's default list): null, zero, full, random, urandom,
/// tty, console, ptmx and the pseudo-terminals.
const DEFAULT_DEVICES: [Devices; 9] = [
    Devices::One(1, 3),
    Devices::One(1, 5),
    Devices::One(1, 7),
    Devices::One(1, 8),
    Devices::One(1, 9),
    Devices::One(5, 0),
    Devices::One(5, 1),
    Devices::One(5, 2),
    Devices::Major(136),
];

impl Entry {
    /// The `DeviceAllow=` path, if systemd can name the devices: `/dev/char/M:m`, `char-*`,
    /// and for a whole major only the group systemd finds in /proc/devices (pts for 136).
    fn path(&self) -> Option<String> {
        let kind = match self.kind {
            Kind::Char => "char",
            Kind::Block => "block",
        };
        match self.devices {
            Devices::All => Some(format!("{kind}-*")),
            Devices::One(major, minor) => Some(format!("/dev/{kind}/{major}:{minor}")),
            Devices::Major(136) if self.kind == Kind::Char => Some("char-pts".to_owned()),
            Devices::Major(_) => None,
        }
    }
}

/// A rule that passed the checks.
struct Rule {
    allow: bool,
    kinds: &'static [Kind],
    major: Number,
    minor: Number,
    access: String,
}

impl Rule {
    fn check(rule: &LinuxDeviceCgroup) -> Result<Rule, String> {
        Ok(Rule {
            allow: rule.allow(),
            kinds: kinds(rule)?,
            major: number(rule.major())?,
            minor: number(rule.minor())?,
            access: access(rule)?,
        })
    }

    fn covers_everything(&self) -> bool {
        self.kinds.len() == 2
            && self.major.is_none()
            && self.minor.is_none()
            && LETTERS.iter().all(|c| self.access.contains(*c))
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
        Some(LinuxDeviceType::C | LinuxDeviceType::U) => Ok(&[Kind::Char]),
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
    let checked: Vec<Result<Rule, String>> = rules.iter().map(Rule::check).collect();
    let last_wildcard = checked
        .iter()
        .rposition(|rule| rule.as_ref().is_ok_and(Rule::covers_everything));
    let allow_all = last_wildcard.is_some_and(|i| rules[i].allow());
    let user = t.target.manager == Manager::User;
    let first = last_wildcard.map_or(0, |i| i + 1);
    let applied = apply(&checked, first);
    for (index, (rule, checked)) in rules.iter().zip(&checked).enumerate() {
        let mapping = t.field(format!("linux.resources.devices[{index}]"), rule);
        if let Err(why) = checked {
            mapping.to(Destination::invalid(why.clone()));
        } else if let Some(last) = last_wildcard.filter(|last| index < *last) {
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
    /// An allow, and its entries.
    Allowed(Range<usize>),
    /// A deny, and the rules whose entries it narrowed (`None`: the default devices).
    Narrowed(Vec<Option<usize>>),
    DeniedAlready,
    /// A deny inside a wider allow of that rule (`None`: a default device group).
    Unexpressible(Option<usize>),
    /// An allow systemd cannot name.
    Unnamed,
}

/// The allowed devices while the rules are applied, with an index for the denies: for each
/// kind and [`Reach`] a deny of the bundle looks under, the positions of the entries it would
/// touch, one queue per access letter they hold. A deny looks only at the queues of its own
/// reach and letters, and every live entry in its narrowing queues loses that letter, so those
/// queues are spent: each entry is visited a bounded number of times however many rules there
/// are. Entries that lost a letter meanwhile are dropped from its queues when met.
struct Allowed {
    entries: Vec<Entry>,
    index: HashMap<(Kind, Reach), [VecDeque<usize>; 3]>,
}

/// The access letters, in the order of the index's queues.
const LETTERS: [char; 3] = ['r', 'w', 'm'];

/// The positions in [`LETTERS`] of the letters of an access string.
fn letters(access: &str) -> impl Iterator<Item = usize> + '_ {
    (0..LETTERS.len()).filter(|&l| access.contains(LETTERS[l]))
}

/// An access string as a set of letters (bit `l` for `LETTERS[l]`).
fn mask(access: &str) -> usize {
    letters(access).map(|l| 1 << l).sum()
}

impl Allowed {
    fn push(&mut self, entry: Entry) {
        let position = self.entries.len();
        for reach in entry.devices.reached_by() {
            let Some(queues) = self.index.get_mut(&(entry.kind, reach)) else {
                continue;
            };
            for letter in letters(&entry.access) {
                queues[letter].push_back(position);
            }
        }
        self.entries.push(entry);
    }

    fn allow(&mut self, index: usize, rule: &Rule) -> Effect {
        let Some(devices) = Devices::of(rule.major, rule.minor) else {
            return Effect::Unnamed;
        };
        let new: Vec<Entry> = rule
            .kinds
            .iter()
            .map(|&kind| Entry {
                rule: Some(index),
                kind,
                devices,
                access: rule.access.clone(),
                narrowed_by: Vec::new(),
            })
            .collect();
        if new.iter().any(|e| e.path().is_none()) {
            return Effect::Unnamed;
        }
        let start = self.entries.len();
        for entry in new {
            self.push(entry);
        }
        Effect::Allowed(start..self.entries.len())
    }

    fn deny(&mut self, index: usize, rule: &Rule) -> Effect {
        let Allowed {
            entries,
            index: queues,
        } = self;
        let (narrows, wider) = deny_reaches(rule.major, rule.minor);
        let live =
            |position: usize, letter: usize| entries[position].access.contains(LETTERS[letter]);
        let mut first_wider: Option<usize> = None;
        for &kind in rule.kinds {
            for reach in wider.iter().flatten() {
                let Some(by_letter) = queues.get_mut(&(kind, *reach)) else {
                    continue;
                };
                for letter in letters(&rule.access) {
                    let queue = &mut by_letter[letter];
                    while queue.front().is_some_and(|&p| !live(p, letter)) {
                        queue.pop_front();
                    }
                    if let Some(&position) = queue.front() {
                        first_wider = Some(first_wider.map_or(position, |p| p.min(position)));
                    }
                }
            }
        }
        if let Some(position) = first_wider {
            return Effect::Unexpressible(entries[position].rule);
        }
        let mut touched = Vec::new();
        for &kind in rule.kinds {
            let Some(by_letter) = queues.get_mut(&(kind, narrows)) else {
                continue;
            };
            for letter in letters(&rule.access) {
                let queue = std::mem::take(&mut by_letter[letter]);
                touched.extend(queue.into_iter().filter(|&p| live(p, letter)));
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let mut narrowed = Vec::new();
        let mut seen = HashSet::new();
        for position in touched {
            let entry = &mut entries[position];
            entry.access.retain(|c| !rule.access.contains(c));
            entry.narrowed_by.push(index);
            if seen.insert(entry.rule) {
                narrowed.push(entry.rule);
            }
        }
        if narrowed.is_empty() {
            Effect::DeniedAlready
        } else {
            Effect::Narrowed(narrowed)
        }
    }
}

/// The rules after the deny-all, applied in order to the default devices.
struct Applied {
    /// Each rule's effect, by its index in the rule list; `None` before the deny-all and for
    /// rules that failed the checks.
    effects: Vec<Option<Effect>>,
    /// The allowed devices after every rule.
    entries: Vec<Entry>,
    /// For each device group, the first entry with each final access (by [`mask`]).
    first_with: HashMap<(Kind, Devices), [usize; 8]>,
}

fn apply(rules: &[Result<Rule, String>], first: usize) -> Applied {
    // Only the reaches some deny looks under get queues.
    let index = rules[first..]
        .iter()
        .flatten()
        .filter(|rule| !rule.allow)
        .flat_map(|rule| {
            let (narrows, wider) = deny_reaches(rule.major, rule.minor);
            let reaches = wider.into_iter().flatten().chain([narrows]);
            rule.kinds
                .iter()
                .flat_map(move |&kind| reaches.clone().map(move |reach| (kind, reach)))
        })
        .map(|key| (key, Default::default()))
        .collect();
    let mut allowed = Allowed {
        entries: Vec::new(),
        index,
    };
    for devices in DEFAULT_DEVICES {
        allowed.push(Entry {
            rule: None,
            kind: Kind::Char,
            devices,
            access: "rwm".to_owned(),
            narrowed_by: Vec::new(),
        });
    }
    let effects = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let rule = rule.as_ref().ok().filter(|_| index >= first)?;
            Some(if rule.allow {
                allowed.allow(index, rule)
            } else {
                allowed.deny(index, rule)
            })
        })
        .collect();
    let mut first_with: HashMap<(Kind, Devices), [usize; 8]> = HashMap::new();
    for (position, entry) in allowed.entries.iter().enumerate() {
        let slot = &mut first_with
            .entry((entry.kind, entry.devices))
            .or_insert([usize::MAX; 8])[mask(&entry.access)];
        if *slot == usize::MAX {
            *slot = position;
        }
    }
    Applied {
        effects,
        entries: allowed.entries,
        first_with,
    }
}

fn rule_name(rule: Option<usize>) -> String {
    match rule {
        Some(rule) => format!("linux.resources.devices[{rule}]"),
        None => "the default devices".to_owned(),
    }
}

impl Applied {
    /// The first entry before `position` that allows the same devices with at least its access.
    fn earlier(&self, position: usize) -> Option<&Entry> {
        let entry = &self.entries[position];
        let wanted = mask(&entry.access);
        let first = self.first_with.get(&(entry.kind, entry.devices))?;
        let found = (0..8)
            .filter(|m| m & wanted == wanted)
            .map(|m| first[m])
            .min()?;
        (found < position).then(|| &self.entries[found])
    }

    fn record(&self, index: usize, mapping: &mut Mapping) {
        let Some(Some(effect)) = self.effects.get(index) else {
            return;
        };
        match effect {
            Effect::Allowed(positions) => {
                for position in positions.clone() {
                    match self.earlier(position) {
                        Some(e) => mapping.to(Destination::ignored(format!(
                            "already allowed by {}",
                            rule_name(e.rule)
                        ))),
                        None => emit(mapping, &self.entries[position]),
                    };
                }
            }
            Effect::Narrowed(rules) => {
                let from: Vec<String> = rules.iter().map(|r| rule_name(*r)).collect();
                mapping.to(Destination::ignored(format!(
                    "takes access back from {}",
                    from.join(", ")
                )));
            }
            Effect::DeniedAlready => {
                mapping.to(Destination::ignored("denied already"));
            }
            Effect::Unexpressible(rule) => {
                mapping.to(Destination::dropped(format!(
                    "systemd's allow-list cannot carve these devices out of the wider allow of {}",
                    rule_name(*rule)
                )));
            }
            Effect::Unnamed => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    /// Each rule's destinations as `kind: detail` strings, for a target.
    fn outcome(rules: serde_json::Value, manager: Manager) -> Vec<Vec<String>> {
        let rules: Vec<LinuxDeviceCgroup> = serde_json::from_value(rules).unwrap();
        let mut t = Translation {
            target: Target {
                manager,
                systemd: 252,
            },
            manager_uid: 1000,
            userns: crate::translate::idmap::UserNamespace::Host,
            mappings: Vec::new(),
            cwd: None,
        };
        translate(&rules, &mut t);
        t.mappings
            .iter()
            .filter(|m| m.path.ends_with(']'))
            .map(|m| {
                m.destinations
                    .iter()
                    .map(|d| match d {
                        Destination::Property { property, .. } => {
                            format!("property: {}={}", property.key, property.value)
                        }
                        Destination::Ignored { why } => format!("ignored: {why}"),
                        Destination::Dropped { why } => format!("dropped: {why}"),
                        Destination::Invalid { why } => format!("invalid: {why}"),
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_bad_rule_is_invalid_for_every_target_and_position() {
        let rules = serde_json::json!([
            {"allow": true, "type": "c", "major": -2, "minor": 1, "access": "r"},
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "p", "access": "r"},
            {"allow": true, "type": "c", "major": 1, "minor": 4294967296_i64, "access": "r"},
        ]);
        for manager in [Manager::System, Manager::User] {
            let outcome = outcome(rules.clone(), manager);
            assert_eq!(
                outcome[0],
                ["invalid: -2 is not a device number"],
                "{manager:?}"
            );
            assert!(outcome[2][0].starts_with("invalid: a FIFO"), "{manager:?}");
            assert_eq!(outcome[3], ["invalid: 4294967296 is not a device number"]);
        }
        // A bad rule is no "deny all": the deny-all before it still counts.
        let outcome = outcome(
            serde_json::json!([
                {"allow": true, "access": "rwm"},
                {"allow": false, "access": "rwmx"},
                {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "r"},
            ]),
            Manager::System,
        );
        assert!(outcome[1][0].starts_with("invalid: access \"rwmx\""));
        assert_eq!(outcome[2], ["ignored: already allowed"]);
    }

    #[test]
    fn denies_narrow_the_entries_they_reach_and_only_those() {
        let outcome = outcome(
            serde_json::json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 201, "access": "rw"},
                {"allow": true, "type": "b", "major": 10, "minor": 200, "access": "rw"},
                {"allow": false, "type": "c", "major": 10, "access": "w"},
                {"allow": false, "type": "b", "minor": 200, "access": "r"},
                {"allow": false, "type": "c", "major": 10, "minor": 200, "access": "w"},
                {"allow": false, "type": "c", "major": 136, "minor": 3, "access": "r"},
                {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "r"},
                {"allow": false, "type": "c", "minor": 201, "access": "r"},
                {"allow": false, "type": "b", "major": 10, "minor": 200, "access": "w"},
            ]),
            Manager::System,
        );
        let taken = |rules: &str| [format!("ignored: takes access back from {rules}")];
        let devices = |i: usize| format!("linux.resources.devices[{i}]");
        let carve = "dropped: systemd's allow-list cannot carve these devices out of the wider \
                     allow of the default devices";
        assert_eq!(outcome[1], ["property: DeviceAllow=/dev/char/10:200 rm"]);
        assert_eq!(outcome[2], ["property: DeviceAllow=/dev/char/10:201 r"]);
        assert_eq!(
            outcome[3],
            [format!(
                "ignored: /dev/block/10:200: all access taken back by {}",
                devices(10)
            )]
        );
        assert_eq!(
            outcome[4],
            taken(&format!("{}, {}", devices(1), devices(2)))
        );
        assert_eq!(outcome[5], taken(&devices(3)));
        assert_eq!(outcome[6], ["ignored: denied already"]);
        assert_eq!(outcome[7], [carve]);
        assert_eq!(
            outcome[8],
            [format!("ignored: already allowed by {}", devices(1))]
        );
        assert_eq!(
            outcome[9],
            [carve],
            "*:201 cannot be carved out of char-pts"
        );
        assert_eq!(outcome[10], taken(&devices(3)));
    }
}
