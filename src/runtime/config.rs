//! The runtime's `config.json`, derived from the bundle's: the bundle stays exactly as the user
//! wrote it, and what ociunit must change for the runtime to run it inside the unit goes into a
//! copy that ociunit writes itself (`compile`, `install`, `run`), each change with its reason for
//! `explain`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Kind, Runtime};

/// The leaf the container's cgroup is, below the delegated unit cgroup (the launcher's `--leaf`).
pub const CONTAINER_LEAF: &str = crate::plan::DEFAULT_LEAF;

/// One change from the bundle's config to the runtime's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    /// The JSON path changed.
    pub path: &'static str,
    pub what: String,
    /// The bundle asked for something else, so `--strict` refuses the change.
    pub strict: bool,
}

/// What the derivation needs to know beyond the bundle.
pub struct Context<'a> {
    pub runtime: &'a Runtime,
    pub bundle_dir: &'a Path,
    /// The ids the runtime runs as: the user manager's user, or root.
    pub uid: u32,
    pub gid: u32,
    /// The container may keep `process.terminal` (a scope started from a terminal).
    pub terminal: bool,
}

/// `root.path` as the runtime must see it: relative paths are relative to the bundle directory,
/// and the derived config does not live there.
pub fn absolute_root(bundle_dir: &Path, root: &Path) -> PathBuf {
    if root.is_absolute() {
        root.to_owned()
    } else {
        bundle_dir.join(root)
    }
}

/// The runtime's config and the changes made to get it.
pub fn derive(raw: &Value, context: &Context) -> (Value, Vec<Adjustment>) {
    let mut config = raw.clone();
    let mut changes = Vec::new();
    let mut change = |path, what: String, strict| {
        changes.push(Adjustment { path, what, strict });
    };

    if let Some(root) = config.get_mut("root").and_then(|r| r.get_mut("path")) {
        let path = root.as_str().unwrap_or_default();
        if !Path::new(path).is_absolute() {
            let absolute = absolute_root(context.bundle_dir, Path::new(path));
            change(
                "root.path",
                format!(
                    "{} (relative to the bundle, which the runtime does not see)",
                    absolute.display()
                ),
                false,
            );
            *root = json!(absolute.to_string_lossy());
        }
    }

    let linux = object_at(&mut config, "linux");
    if linux.remove("resources").is_some() {
        change(
            "linux.resources",
            "removed: ociunit applies the limits (unit properties and the payload leaf), the \
             runtime writes none"
                .into(),
            false,
        );
    }
    match context.runtime.kind {
        Kind::Crun => {
            if linux.remove("cgroupsPath").is_some() {
                change(
                    "linux.cgroupsPath",
                    "removed: crun runs with --cgroup-manager=disabled in ociunit's leaf".into(),
                    false,
                );
            }
        }
        Kind::Runc => {
            let old = linux.insert("cgroupsPath".into(), json!(CONTAINER_LEAF));
            change(
                "linux.cgroupsPath",
                format!(
                    "{CONTAINER_LEAF:?}: runc takes a relative path from the parent of its own \
                     cgroup, so the container gets the prepared leaf beside runc's{}",
                    if old.is_some() {
                        " (the bundle's is replaced)"
                    } else {
                        ""
                    }
                ),
                false,
            );
        }
    }

    let namespaces = linux.entry("namespaces").or_insert_with(|| json!([]));
    if !namespaces.is_array() {
        *namespaces = json!([]);
    }
    let list = namespaces.as_array_mut().expect("made an array above");
    let has = |list: &[Value], kind: &str| list.iter().any(|ns| ns["type"] == kind);
    if !has(list, "cgroup") {
        list.push(json!({ "type": "cgroup" }));
        change(
            "linux.namespaces",
            "a cgroup namespace added: without one the container sees the host's cgroup tree \
             and not its own limits"
                .into(),
            true,
        );
    }
    if has(list, "user") {
        for (key, id) in [("uidMappings", context.uid), ("gidMappings", context.gid)] {
            let unmapped = linux
                .get(key)
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if unmapped {
                linux.insert(
                    key.into(),
                    json!([{ "containerID": 0, "hostID": id, "size": 1 }]),
                );
                change(
                    if key == "uidMappings" {
                        "linux.uidMappings"
                    } else {
                        "linux.gidMappings"
                    },
                    format!(
                        "0 → {id}, size 1: a user namespace without mappings (crun maps the \
                         caller, runc refuses) gets the single mapping of the manager's own id"
                    ),
                    false,
                );
            }
        }
    }

    if !context.terminal
        && config.get("process").and_then(|p| p.get("terminal")) == Some(&json!(true))
    {
        config["process"]["terminal"] = json!(false);
        change(
            "process.terminal",
            "false: a unit has no terminal, and the runtime would fail to set one up".into(),
            false,
        );
    }

    let version = config["ociVersion"].as_str().unwrap_or_default();
    if context.runtime.refuses_oci_version(version) {
        change(
            "ociVersion",
            format!(
                "1.0.2: crun {} refuses {version:?} (before 1.14.2 it accepts only 1.0.x)",
                context.runtime.version_shown()
            ),
            false,
        );
        config["ociVersion"] = json!("1.0.2");
    }
    (config, changes)
}

/// The object at `key` of the document, made one if it is missing.
fn object_at<'a>(config: &'a mut Value, key: &str) -> &'a mut serde_json::Map<String, Value> {
    let document = config.as_object_mut().expect("a bundle is a JSON object");
    let value = document.entry(key).or_insert_with(|| json!({}));
    if !value.is_object() {
        *value = json!({});
    }
    value.as_object_mut().expect("made an object above")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(kind: Kind, version: &str) -> Runtime {
        Runtime {
            kind,
            path: format!("/usr/bin/{}", kind.name()).into(),
            version: Some(version.into()),
        }
    }

    #[allow(
        clippy::needless_pass_by_value,
        reason = "the tests pass json! documents"
    )]
    fn derive_with(raw: Value, runtime: &Runtime, terminal: bool) -> (Value, Vec<&'static str>) {
        let context = Context {
            runtime,
            bundle_dir: Path::new("/srv/demo"),
            uid: 1000,
            gid: 1000,
            terminal,
        };
        let (config, changes) = derive(&raw, &context);
        (config, changes.iter().map(|c| c.path).collect())
    }

    fn rootless() -> Value {
        json!({
            "ociVersion": "1.2.0",
            "process": { "terminal": true, "args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0} },
            "root": { "path": "rootfs", "readonly": true },
            "linux": {
                "namespaces": [{"type": "pid"}, {"type": "user"}, {"type": "mount"}],
                "resources": { "memory": { "limit": 1000000000 } },
                "cgroupsPath": "/user.slice/x"
            }
        })
    }

    #[test]
    fn crun_spec_rootless_for_old_crun() {
        let crun = runtime(Kind::Crun, "1.8.1");
        let (config, changed) = derive_with(rootless(), &crun, false);
        assert_eq!(
            changed,
            [
                "root.path",
                "linux.resources",
                "linux.cgroupsPath",
                "linux.namespaces",
                "linux.uidMappings",
                "linux.gidMappings",
                "process.terminal",
                "ociVersion"
            ]
        );
        assert_eq!(config["root"]["path"], "/srv/demo/rootfs");
        assert_eq!(config["root"]["readonly"], true);
        assert!(config["linux"].get("resources").is_none());
        assert!(config["linux"].get("cgroupsPath").is_none());
        assert_eq!(config["linux"]["namespaces"][3], json!({"type": "cgroup"}));
        assert_eq!(
            config["linux"]["uidMappings"],
            json!([{"containerID": 0, "hostID": 1000, "size": 1}])
        );
        assert_eq!(config["process"]["terminal"], false);
        assert_eq!(config["ociVersion"], "1.0.2");
        assert_eq!(config["process"]["args"], json!(["sh"]));
    }

    #[test]
    fn runc_gets_the_payload_leaf_and_keeps_what_needs_no_change() {
        let mut raw = rootless();
        raw["root"]["path"] = json!("/abs/rootfs");
        raw["linux"]["namespaces"] = json!([{"type": "user"}, {"type": "cgroup"}]);
        raw["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
        raw["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
        let runc = runtime(Kind::Runc, "1.1.15+ds1");
        let (config, changed) = derive_with(raw, &runc, true);
        assert_eq!(changed, ["linux.resources", "linux.cgroupsPath"]);
        assert_eq!(config["linux"]["cgroupsPath"], "payload");
        assert_eq!(config["process"]["terminal"], true);
        assert_eq!(config["ociVersion"], "1.2.0");
    }
}
