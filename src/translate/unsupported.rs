//! Everything in a bundle that ociunit does not turn into a unit setting, each with the reason,
//! so `explain` accounts for every field and nothing is silently pretended.
//!
//! Unknown keys are reported too: serde would skip a misspelt `"memroy"` without a word, and a
//! limit that silently does not apply is the worst outcome.

use oci_spec::runtime::LinuxNetwork;
use serde_json::Value;

use super::{Translation, V1_ONLY};
use crate::plan::Destination;

pub fn network(network: &LinuxNetwork, t: &mut Translation) {
    let asks_nothing = matches!(network.class_id(), None | Some(0))
        && network.priorities().as_ref().is_none_or(Vec::is_empty);
    t.field("linux.resources.network", network)
        .to(if asks_nothing {
            Destination::ignored("class 0 and no priorities ask for nothing")
        } else {
            Destination::dropped(V1_ONLY)
        });
}

/// Top-level and `linux` sections and why they go nowhere.
const SECTIONS: [(&str, Outcome); 28] = [
    (
        "root",
        Drop("the payload runs on the host's file system: ociunit does not change root"),
    ),
    (
        "mounts",
        Drop("the payload sees the host's mounts: ociunit sets up no mount namespace"),
    ),
    (
        "hostname",
        Drop("the payload runs in the host's UTS namespace"),
    ),
    (
        "domainname",
        Drop("the payload runs in the host's UTS namespace"),
    ),
    ("hooks", Drop("ociunit runs no OCI hooks")),
    ("annotations", Handled),
    ("solaris", Drop("not a Linux setting")),
    ("windows", Drop("not a Linux setting")),
    ("vm", Drop("not a Linux setting")),
    ("zos", Drop("not a Linux setting")),
    ("freebsd", Drop("not a Linux setting")),
    (
        "linux.namespaces",
        Drop("the payload runs in the unit's namespaces: ociunit creates none"),
    ),
    ("linux.uidMappings", Handled),
    ("linux.gidMappings", Handled),
    (
        "linux.sysctl",
        Drop("not translated: sysctls are host-wide without the container's namespaces"),
    ),
    ("linux.seccomp", Handled),
    (
        "linux.maskedPaths",
        Drop("not translated: no mount namespace to mask paths in"),
    ),
    (
        "linux.readonlyPaths",
        Drop("not translated: no mount namespace to remount paths in"),
    ),
    (
        "linux.mountLabel",
        Drop("not translated: no mounts are made"),
    ),
    (
        "linux.rootfsPropagation",
        Drop("not translated: no mount namespace"),
    ),
    (
        "linux.devices",
        Drop("no /dev is created: the payload uses the host's device nodes"),
    ),
    (
        "linux.cgroupsPath",
        Ignore("systemd chooses the cgroup: the unit's own, delegated"),
    ),
    (
        "linux.intelRdt",
        Drop("not translated: no resctrl group is created"),
    ),
    ("linux.personality", Drop("not translated")),
    (
        "linux.memoryPolicy",
        Drop("not translated: the payload keeps the default NUMA policy"),
    ),
    ("linux.timeOffsets", Drop("no time namespace is created")),
    ("linux.netDevices", Drop("no network namespace is created")),
    ("linux.resources", Handled),
];

enum Outcome {
    Drop(&'static str),
    Ignore(&'static str),
    Handled,
}
use Outcome::{Drop, Handled, Ignore};

const TOP_LEVEL_HANDLED: [&str; 3] = ["ociVersion", "process", "linux"];
const RESOURCES: [&str; 9] = [
    "devices",
    "memory",
    "cpu",
    "pids",
    "blockIO",
    "hugepageLimits",
    "network",
    "rdma",
    "unified",
];
const KNOWN_FIELDS: [(&str, &[&str]); 8] = [
    (
        "linux.resources.memory",
        &[
            "limit",
            "reservation",
            "swap",
            "kernel",
            "kernelTCP",
            "swappiness",
            "disableOOMKiller",
            "useHierarchy",
            "checkBeforeUpdate",
        ],
    ),
    (
        "linux.resources.cpu",
        &[
            "shares",
            "quota",
            "burst",
            "period",
            "realtimeRuntime",
            "realtimePeriod",
            "cpus",
            "mems",
            "idle",
        ],
    ),
    ("linux.resources.pids", &["limit"]),
    (
        "linux.resources.blockIO",
        &[
            "weight",
            "leafWeight",
            "weightDevice",
            "throttleReadBpsDevice",
            "throttleWriteBpsDevice",
            "throttleReadIOPSDevice",
            "throttleWriteIOPSDevice",
        ],
    ),
    (
        "process",
        &[
            "terminal",
            "consoleSize",
            "user",
            "args",
            "commandLine",
            "env",
            "cwd",
            "capabilities",
            "rlimits",
            "noNewPrivileges",
            "apparmorProfile",
            "oomScoreAdj",
            "selinuxLabel",
            "ioPriority",
            "scheduler",
            "execCPUAffinity",
        ],
    ),
    (
        "process.user",
        &["uid", "gid", "umask", "additionalGids", "username"],
    ),
    (
        "process.capabilities",
        &[
            "bounding",
            "effective",
            "inheritable",
            "permitted",
            "ambient",
        ],
    ),
    (
        "linux.seccomp",
        &[
            "defaultAction",
            "defaultErrnoRet",
            "architectures",
            "flags",
            "listenerPath",
            "listenerMetadata",
            "syscalls",
        ],
    ),
];

fn at<'a>(raw: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(raw, |value, key| value.get(key))
}

fn unknown(t: &mut Translation, path: String, value: &Value) {
    t.field(path, value).to(Destination::dropped(
        "unknown field: not part of runtime-spec 1.x (check the spelling)",
    ));
}

/// Records the sections ociunit does not translate, except those a container's runtime applies
/// (`super::container` records them then), and every unknown field.
pub fn translate(raw: &Value, container: bool, t: &mut Translation) {
    for (path, outcome) in &SECTIONS {
        if container && super::container::RUNTIME_SECTIONS.contains(path) {
            continue;
        }
        let (Some(value), Drop(why) | Ignore(why)) = (at(raw, path), outcome) else {
            continue;
        };
        let destination = match outcome {
            Drop(_) => Destination::dropped(*why),
            _ => Destination::ignored(*why),
        };
        t.field(*path, value).to(destination);
    }
    let known = |parent: &str, key: &str| match parent {
        "" => TOP_LEVEL_HANDLED.contains(&key) || SECTIONS.iter().any(|(p, _)| *p == key),
        "linux" => SECTIONS
            .iter()
            .any(|(p, _)| p.strip_prefix("linux.") == Some(key)),
        "linux.resources" => RESOURCES.contains(&key),
        _ => KNOWN_FIELDS
            .iter()
            .any(|(p, keys)| *p == parent && keys.contains(&key)),
    };
    let parents = ["", "linux", "linux.resources"]
        .into_iter()
        .chain(KNOWN_FIELDS.iter().map(|(p, _)| *p));
    for parent in parents {
        let object = if parent.is_empty() {
            Some(raw)
        } else {
            at(raw, parent)
        };
        let Some(Value::Object(object)) = object else {
            continue;
        };
        for (key, value) in object {
            if !known(parent, key) {
                let path = if parent.is_empty() {
                    key.clone()
                } else {
                    format!("{parent}.{key}")
                };
                unknown(t, path, value);
            }
        }
    }
}
