//! What a container needs from the host, besides what every unit needs: the runtime, user
//! namespaces and the mappings the user may use, a cgroup namespace.

use serde_json::Value;

use super::checks::{Check, Root};
use crate::plan::container::Container;
use crate::runtime::Mode;
use crate::target::Manager;

pub fn checks(root: &Root, mode: &Mode, container: &Container, manager: Manager) -> Vec<Check> {
    let mut checks = vec![runtime(mode)];
    if manager == Manager::User {
        checks.push(user_namespaces(root, &container.config));
    }
    checks.push(cgroup_namespace(root));
    checks
}

fn runtime(mode: &Mode) -> Check {
    match mode {
        Mode::Container { runtime, why } => Check::ok(
            "runtime",
            format!(
                "{} {} ({}): {why}",
                runtime.kind.name(),
                runtime.version_shown(),
                runtime.path.display()
            ),
        ),
        Mode::Host { why } => Check::ok("runtime", format!("none, on the host: {why}")),
    }
}

/// Unprivileged user namespaces must be allowed, and the mappings must be ones this user may
/// set up: its own id alone needs nothing, anything else `newuidmap`/`newgidmap` (package
/// uidmap) and ranges in /etc/subuid and /etc/subgid.
fn user_namespaces(root: &Root, config: &Value) -> Check {
    const NAME: &str = "userns";
    let read = |path: &str| std::fs::read_to_string(root.path(path)).ok();
    if read("/proc/sys/user/max_user_namespaces").is_some_and(|n| n.trim() == "0") {
        return Check::fail(
            NAME,
            "user namespaces are disabled (user.max_user_namespaces = 0)",
            "sudo sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/ to keep it)",
        );
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").is_some_and(|n| n.trim() == "0") {
        return Check::fail(
            NAME,
            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
            "sudo sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it)",
        );
    }
    let single = |key: &str| {
        let mappings = config
            .pointer(&format!("/linux/{key}"))
            .and_then(Value::as_array);
        mappings.is_some_and(|m| m.len() == 1 && m[0]["containerID"] == 0 && m[0]["size"] == 1)
    };
    if single("uidMappings") && single("gidMappings") {
        return Check::ok(
            NAME,
            "allowed; the bundle maps only your own ids, which needs no helper",
        );
    }
    let helpers = ["/usr/bin/newuidmap", "/usr/bin/newgidmap"];
    if helpers.iter().any(|h| !root.path(h).exists()) {
        return Check::fail(
            NAME,
            "the bundle maps ranges of ids, which needs newuidmap and newgidmap",
            "sudo apt install uidmap, and give your user ranges in /etc/subuid and /etc/subgid \
             (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER)",
        );
    }
    Check::ok(
        NAME,
        "allowed; the bundle maps ranges of ids through newuidmap/newgidmap, which check them \
         against /etc/subuid and /etc/subgid",
    )
}

/// Without a cgroup namespace the container would see the host's cgroup tree, not its limits.
fn cgroup_namespace(root: &Root) -> Check {
    if root.path("/proc/self/ns/cgroup").exists() {
        Check::ok("cgroupns", "the kernel has cgroup namespaces")
    } else {
        Check::fail(
            "cgroupns",
            "the kernel has no cgroup namespaces (CONFIG_CGROUPS namespaces, Linux 4.6+)",
            "a kernel with cgroup namespaces; Debian's have them",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn single() -> Value {
        let one = json!([{ "containerID": 0, "hostID": 1000, "size": 1 }]);
        json!({ "linux": { "uidMappings": one, "gidMappings": one } })
    }

    #[test]
    fn user_namespaces_and_the_mappings_a_user_may_use() {
        use super::super::checks::Status::{Fail, Ok};
        let status = |files: &[(&str, &str)], config: &Value| {
            let dir = tree(files);
            user_namespaces(&Root(dir.path().to_owned()), config).status
        };
        assert_eq!(status(&[], &single()), Ok);
        let off = [("/proc/sys/kernel/unprivileged_userns_clone", "0\n")];
        assert_eq!(status(&off, &single()), Fail);
        let zero = [("/proc/sys/user/max_user_namespaces", "0\n")];
        assert_eq!(status(&zero, &single()), Fail);
        let range = json!({ "linux": {
            "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
            "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }] } });
        assert_eq!(status(&[], &range), Fail);
        let helpers = [("/usr/bin/newuidmap", ""), ("/usr/bin/newgidmap", "")];
        assert_eq!(status(&helpers, &range), Ok);
    }
}
