//! User namespaces in host mode: the host identity of `process.user`.
//!
//! ociunit creates no user namespace, but a bundle that asks for one says which host IDs its
//! container IDs stand for (`linux.uidMappings`, `linux.gidMappings`): container uid 0 mapped to
//! host uid 1000 is an unprivileged process on the host, and must not become a root service. The
//! IDs of `process.user` are translated through the mappings before the usual rules apply; an
//! ID the mappings do not cover has no host identity, and the bundle is refused.

use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Spec};
use serde_json::Value;

use super::Translation;
use crate::plan::Destination;

/// The kernel's limit on lines in `/proc/PID/uid_map` (since Linux 4.15).
const MAX_RANGES: usize = 340;

/// One valid mapping line: container IDs `container..container+size` are host IDs from `host`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

/// How the IDs of `process.user` reach the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserNamespace {
    /// No user namespace: `process.user` holds host IDs.
    Host,
    /// A new user namespace with valid mappings.
    Mapped { uids: Vec<Range>, gids: Vec<Range> },
    /// A new user namespace without mappings (`crun spec --rootless`): the runtime maps container
    /// ID 0 to whoever starts it, and nothing else.
    Unmapped,
    /// The host identity cannot be known: an existing namespace is joined, or the mappings are
    /// invalid (reported on their own rows).
    Unknown(String),
}

/// Which of the two mappings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id {
    User,
    Group,
}

impl Id {
    pub fn field(self) -> &'static str {
        match self {
            Id::User => "uidMappings",
            Id::Group => "gidMappings",
        }
    }
}

/// Where a container ID lands on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostId {
    /// This host ID.
    Mapped(u32),
    /// Container ID 0 in a namespace without mappings: the ID of whoever starts the runtime.
    Starter,
}

impl UserNamespace {
    /// Reads the namespace of a bundle; problems with the mappings are reported by [`translate`].
    pub fn read(spec: &Spec, raw: &Value) -> UserNamespace {
        let Some(linux) = spec.linux() else {
            return UserNamespace::Host;
        };
        let joined = linux
            .namespaces()
            .iter()
            .flatten()
            .find(|ns| ns.typ() == LinuxNamespaceType::User);
        let (uids, gids) = (linux.uid_mappings(), linux.gid_mappings());
        let mapped = |m: &Option<Vec<LinuxIdMapping>>| m.as_ref().is_some_and(|v| !v.is_empty());
        if joined.is_none() && !mapped(uids) && !mapped(gids) {
            return UserNamespace::Host;
        }
        if let Some(path) = joined.and_then(|ns| ns.path().as_ref()) {
            return UserNamespace::Unknown(format!(
                "the bundle joins the user namespace {}, whose mappings ociunit cannot know",
                path.display()
            ));
        }
        if !mapped(uids) && !mapped(gids) {
            return UserNamespace::Unmapped;
        }
        if problems(spec, raw).is_empty() {
            let ranges = |m: &Option<Vec<LinuxIdMapping>>| {
                m.iter()
                    .flatten()
                    .map(|m| Range {
                        container: m.container_id(),
                        host: m.host_id(),
                        size: m.size(),
                    })
                    .collect()
            };
            UserNamespace::Mapped {
                uids: ranges(uids),
                gids: ranges(gids),
            }
        } else {
            UserNamespace::Unknown(
                "linux.uidMappings or linux.gidMappings is invalid (see there), so the host \
                 identity is unknown"
                    .into(),
            )
        }
    }

    pub fn exists(&self) -> bool {
        *self != UserNamespace::Host
    }

    /// The host ID of container ID `id`, or why it has none.
    pub fn host(&self, kind: Id, id: u32) -> Result<HostId, String> {
        match self {
            UserNamespace::Host => Ok(HostId::Mapped(id)),
            UserNamespace::Mapped { uids, gids } => {
                let ranges = if kind == Id::User { uids } else { gids };
                ranges
                    .iter()
                    .find(|r| id >= r.container && id - r.container < r.size)
                    .map(|r| HostId::Mapped(r.host + (id - r.container)))
                    .ok_or_else(|| {
                        format!(
                            "{id} is not mapped by linux.{}, which covers container IDs {}: it \
                             has no host identity",
                            kind.field(),
                            covered(ranges)
                        )
                    })
            }
            UserNamespace::Unmapped if id == 0 => Ok(HostId::Starter),
            UserNamespace::Unmapped => Err(format!(
                "{id} is not mapped: a user namespace without linux.{} maps only container ID 0 \
                 (to whoever starts it)",
                kind.field()
            )),
            UserNamespace::Unknown(why) => Err(why.clone()),
        }
    }

    /// How `id` was mapped, for explain; `None` without a namespace.
    pub fn conversion(&self, kind: Id, id: u32) -> Option<String> {
        match (self.host(kind, id), self) {
            (_, UserNamespace::Host) | (Err(_), _) => None,
            (Ok(HostId::Mapped(host)), _) => Some(format!(
                "user namespace: container ID {id} is host ID {host} (linux.{})",
                kind.field()
            )),
            (Ok(HostId::Starter), _) => Some(
                "user namespace without mappings: container ID 0 is whoever starts it".to_owned(),
            ),
        }
    }
}

fn covered(ranges: &[Range]) -> String {
    let spans: Vec<String> = ranges
        .iter()
        .map(|r| match r.size {
            1 => r.container.to_string(),
            size => format!(
                "{}..{}",
                r.container,
                u64::from(r.container) + u64::from(size) - 1
            ),
        })
        .collect();
    if spans.is_empty() {
        "none".to_owned()
    } else {
        spans.join(", ")
    }
}

/// Everything wrong with the mappings, as (JSON path, why): what the kernel's `uid_map` refuses
/// (an empty or overflowing range, ranges that overlap on either side, more than 340 lines),
/// a missing member (serde would read it as 0, mapping to root), and one mapping without the
/// other (runc and crun refuse that too).
fn problems(spec: &Spec, raw: &Value) -> Vec<(String, String)> {
    let Some(linux) = spec.linux() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let pairs = [
        (
            Id::User,
            linux.uid_mappings(),
            Id::Group,
            linux.gid_mappings(),
        ),
        (
            Id::Group,
            linux.gid_mappings(),
            Id::User,
            linux.uid_mappings(),
        ),
    ];
    for (kind, mappings, other_kind, other) in pairs {
        let path = format!("linux.{}", kind.field());
        let mappings = mappings.as_deref().unwrap_or_default();
        if mappings.is_empty() {
            if other.as_ref().is_some_and(|o| !o.is_empty()) {
                found.push((
                    path,
                    format!(
                        "missing: linux.{} needs it too (runc and crun refuse one without the other)",
                        other_kind.field()
                    ),
                ));
            }
            continue;
        }
        if mappings.len() > MAX_RANGES {
            found.push((
                path.clone(),
                format!(
                    "{} ranges: the kernel accepts at most {MAX_RANGES}",
                    mappings.len()
                ),
            ));
        }
        let raw_entries = raw
            .pointer(&format!("/linux/{}", kind.field()))
            .and_then(Value::as_array);
        for (index, m) in mappings.iter().enumerate() {
            let entry = format!("{path}[{index}]");
            let raw_entry = raw_entries.and_then(|e| e.get(index));
            if let Some(key) = ["containerID", "hostID", "size"]
                .into_iter()
                .find(|key| raw_entry.and_then(|e| e.get(key)).is_none())
            {
                found.push((format!("{entry}.{key}"), "missing".to_owned()));
                continue;
            }
            let end = |start: u32| u64::from(start) + u64::from(m.size());
            if m.size() == 0 {
                found.push((format!("{entry}.size"), "0 maps no IDs".to_owned()));
            } else if end(m.container_id()) > 1 << 32 || end(m.host_id()) > 1 << 32 {
                found.push((
                    format!("{entry}.size"),
                    format!(
                        "{} IDs from containerID {} or hostID {} go past 4294967295",
                        m.size(),
                        m.container_id(),
                        m.host_id()
                    ),
                ));
            } else if let Some(earlier) = mappings[..index].iter().position(|e| {
                overlaps(e.container_id(), e.size(), m.container_id(), m.size())
                    || overlaps(e.host_id(), e.size(), m.host_id(), m.size())
            }) {
                found.push((
                    entry,
                    format!("overlaps {path}[{earlier}]: each ID may be mapped once"),
                ));
            }
        }
    }
    found
}

fn overlaps(a: u32, a_size: u32, b: u32, b_size: u32) -> bool {
    let (a, b) = (u64::from(a), u64::from(b));
    a < b + u64::from(b_size) && b < a + u64::from(a_size)
}

/// The rows of `linux.uidMappings` and `linux.gidMappings`: each problem at its own path, or the
/// whole mapping when it is valid.
pub fn translate(spec: &Spec, raw: &Value, t: &mut Translation) {
    let problems = problems(spec, raw);
    for field in ["uidMappings", "gidMappings"] {
        let path = format!("linux.{field}");
        let mine: Vec<&(String, String)> = problems
            .iter()
            .filter(|(p, _)| *p == path || p.starts_with(&format!("{path}[")))
            .collect();
        for (at, why) in &mine {
            let pointer = format!("/{}", at.replace(['.', '['], "/").replace(']', ""));
            let value = raw.pointer(&pointer).cloned().unwrap_or(Value::Null);
            t.field(at.clone(), value)
                .to(Destination::invalid(why.clone()));
        }
        if let (Some(value), true) = (raw.pointer(&format!("/linux/{field}")), mine.is_empty()) {
            t.field(path, value).to(Destination::ignored(
                "process.user is translated through it to host IDs; ociunit creates no user \
                 namespace (the payload runs on the host)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(
        clippy::needless_pass_by_value,
        reason = "the tests pass json! documents"
    )]
    fn userns(linux: Value) -> (UserNamespace, Vec<(String, String)>) {
        let raw = json!({"ociVersion": "1.0.2", "linux": linux});
        let spec: Spec = serde_json::from_value(raw.clone()).unwrap();
        (UserNamespace::read(&spec, &raw), problems(&spec, &raw))
    }

    fn map(container: u32, host: u32, size: u32) -> Value {
        json!({"containerID": container, "hostID": host, "size": size})
    }

    #[test]
    fn ids_go_through_the_mappings() {
        let (ns, problems) = userns(json!({
            "namespaces": [{"type": "user"}],
            "uidMappings": [map(0, 1000, 1), map(1, 100000, 65536)],
            "gidMappings": [map(0, 1000, 1)],
        }));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(ns.host(Id::User, 0), Ok(HostId::Mapped(1000)));
        assert_eq!(ns.host(Id::User, 1), Ok(HostId::Mapped(100000)));
        assert_eq!(ns.host(Id::User, 65536), Ok(HostId::Mapped(165535)));
        let unmapped = ns.host(Id::User, 65537).unwrap_err();
        assert!(unmapped.contains("container IDs 0, 1..65536"), "{unmapped}");
        assert!(ns.host(Id::Group, 1).is_err());
    }

    #[test]
    fn without_a_namespace_ids_are_host_ids() {
        let (ns, _) = userns(json!({"namespaces": [{"type": "pid"}]}));
        assert_eq!(ns, UserNamespace::Host);
        assert_eq!(ns.host(Id::User, 5), Ok(HostId::Mapped(5)));
        assert_eq!(ns.conversion(Id::User, 5), None);
    }

    #[test]
    fn a_namespace_without_mappings_maps_only_root() {
        let (ns, _) = userns(json!({"namespaces": [{"type": "user"}]}));
        assert_eq!(ns, UserNamespace::Unmapped);
        assert_eq!(ns.host(Id::User, 0), Ok(HostId::Starter));
        assert!(ns.host(Id::Group, 5).is_err());
    }

    #[test]
    fn mappings_alone_mean_a_namespace_and_joining_one_is_unknown() {
        let (ns, _) = userns(json!({
            "uidMappings": [map(1, 1001, 1)], "gidMappings": [map(1, 1001, 1)],
        }));
        assert_eq!(ns.host(Id::User, 1), Ok(HostId::Mapped(1001)));
        let (ns, _) = userns(json!({"namespaces": [{"type": "user", "path": "/proc/1/ns/user"}]}));
        assert!(matches!(ns, UserNamespace::Unknown(_)));
        assert!(ns.host(Id::User, 0).is_err());
    }

    #[test]
    fn invalid_mappings_are_refused() {
        let bad = |uids: Value, gids: Value| {
            let (ns, problems) = userns(json!({"uidMappings": uids, "gidMappings": gids}));
            assert!(matches!(ns, UserNamespace::Unknown(_)), "{ns:?}");
            problems
        };
        let ok = json!([map(0, 1000, 1)]);
        assert_eq!(
            bad(json!([map(0, 1000, 0)]), ok.clone())[0].0,
            "linux.uidMappings[0].size"
        );
        let overflow = bad(json!([map(0, 4294967295, 2)]), ok.clone());
        assert!(overflow[0].1.contains("past 4294967295"), "{overflow:?}");
        let overlap = bad(json!([map(0, 1000, 10), map(5, 2000, 1)]), ok.clone());
        assert_eq!(overlap[0].0, "linux.uidMappings[1]");
        let host_overlap = bad(json!([map(0, 1000, 10), map(20, 1005, 1)]), ok.clone());
        assert!(host_overlap[0].1.contains("overlaps"));
        let missing = bad(json!([{"containerID": 0, "size": 1}]), ok.clone());
        assert_eq!(missing[0].0, "linux.uidMappings[0].hostID");
        let alone = bad(ok.clone(), json!([]));
        assert_eq!(alone[0].0, "linux.gidMappings");
    }
}
