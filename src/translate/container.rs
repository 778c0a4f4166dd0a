//! Container mode: the process, the root file system, mounts, namespaces and the security
//! settings are the runtime's. Each field present is recorded as applied by the runtime, or as
//! changed in the runtime's config with the reason ([`crate::runtime::config`]); the resources
//! stay ociunit's and go through the same translators as in host mode.

use serde_json::Value;

use super::Translation;
use crate::plan::Destination;
use crate::runtime::config::Adjustment;
use crate::target::Manager;

/// The sections the runtime applies, besides `process`.
pub const RUNTIME_SECTIONS: [&str; 22] = [
    "root",
    "mounts",
    "hostname",
    "domainname",
    "hooks",
    "linux.namespaces",
    "linux.uidMappings",
    "linux.gidMappings",
    "linux.sysctl",
    "linux.seccomp",
    "linux.maskedPaths",
    "linux.readonlyPaths",
    "linux.mountLabel",
    "linux.rootfsPropagation",
    "linux.devices",
    "linux.cgroupsPath",
    "linux.intelRdt",
    "linux.personality",
    "linux.memoryPolicy",
    "linux.timeOffsets",
    "linux.netDevices",
    "linux.resources",
];

/// Records the runtime's fields; the changes to the runtime's config go to the row of the
/// field they change, or to a row of their own when the bundle lacks the field.
pub fn translate(raw: &Value, runtime: &str, adjustments: &[Adjustment], t: &mut Translation) {
    let applies = format!("{runtime} applies it in the container");
    let mut pending: Vec<&Adjustment> = adjustments.iter().collect();
    let mut record = |t: &mut Translation, path: String, value: &Value, default: Option<&str>| {
        let mine: Vec<&Adjustment> = pending.iter().copied().filter(|a| a.path == path).collect();
        pending.retain(|a| a.path != path);
        let mapping = t.field(path, value);
        if let Some(default) = default.filter(|_| mine.iter().all(|a| a.strict)) {
            mapping.to(Destination::runtime(default));
        }
        for adjustment in mine {
            mapping.to(adjustment_destination(adjustment));
        }
    };

    if let Some(Value::Object(process)) = raw.get("process") {
        for (key, value) in process {
            let path = format!("process.{key}");
            if key == "args" && value.as_array().is_none_or(Vec::is_empty) {
                t.field(path, value).to(Destination::invalid(
                    "a container needs a command: process.args is empty or missing",
                ));
                continue;
            }
            record(t, path, value, Some(&applies));
        }
    }
    if let Some(version) = raw
        .get("ociVersion")
        .filter(|_| has(adjustments, "ociVersion"))
    {
        record(t, "ociVersion".into(), version, None);
    }
    for section in RUNTIME_SECTIONS {
        let Some(value) = section.split('.').try_fold(raw, |v, key| v.get(key)) else {
            continue;
        };
        // The resources have rows of their own, one per field.
        let default = (section != "linux.resources").then_some(applies.as_str());
        if default.is_some() || has(adjustments, section) {
            record(t, section.into(), value, default);
        }
    }
    // A change below a section's row (`root.path` below `root`) gets a row of its own, with
    // the bundle's value there (`null` when the bundle lacks the field).
    for adjustment in pending {
        let value = adjustment
            .path
            .split('.')
            .try_fold(raw, |v, key| v.get(key))
            .cloned()
            .unwrap_or(Value::Null);
        t.field(adjustment.path, value)
            .to(adjustment_destination(adjustment));
    }
    let namespaces = raw
        .get("linux")
        .and_then(|l| l.get("namespaces"))
        .and_then(Value::as_array);
    let user_namespace = namespaces.is_some_and(|list| list.iter().any(|ns| ns["type"] == "user"));
    if t.target.manager == Manager::User && !user_namespace {
        t.field("linux.namespaces", namespaces)
            .to(Destination::invalid(
                "a container under a user manager needs a user namespace: add {\"type\": \"user\"} \
             (crun spec --rootless and runc spec --rootless do), or compile with --system",
            ));
    }
}

fn has(adjustments: &[Adjustment], path: &str) -> bool {
    adjustments.iter().any(|a| a.path == path)
}

fn adjustment_destination(adjustment: &Adjustment) -> Destination {
    let what = format!("in the runtime's config: {}", adjustment.what);
    if adjustment.strict {
        Destination::Added { what }
    } else {
        Destination::runtime(what)
    }
}
