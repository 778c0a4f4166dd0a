//! Who must delegate a controller, and how: the one text per problem that the launcher's
//! failures and doctor's checks both print, so that they cannot give two fixes for one problem.

use rustix::io::Errno;

/// The controllers systemd's `Delegate=` knows, which are also the ones rootless units need for
/// every OCI resource block (doctor checks them all when it has no bundle). Others (hugetlb,
/// rdma, misc) systemd never delegates, so root has to enable them by hand down the tree.
pub const SYSTEMD_DELEGATES: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

/// The controllers of `needed` that a cgroup with `available` (its `cgroup.controllers`) cannot
/// hand down: what the fixes below are about.
pub fn missing<'a>(available: &[&str], needed: &'a [String]) -> Vec<&'a str> {
    needed
        .iter()
        .map(String::as_str)
        .filter(|c| !available.contains(c))
        .collect()
}

/// For controllers systemd cannot delegate: what root has to do instead.
fn manual_fix(missing: &[&str], down_to: &str) -> Option<String> {
    let manual: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|c| !SYSTEMD_DELEGATES.contains(c))
        .collect();
    let plus: Vec<String> = manual.iter().map(|c| format!("+{c}")).collect();
    (!manual.is_empty()).then(|| {
        format!(
            "systemd never delegates {}: as root, write `{}` into cgroup.subtree_control of every \
             cgroup from /sys/fs/cgroup down to {down_to} (again after each boot)",
            manual.join(", "),
            plus.join(" ")
        )
    })
}

/// The `Delegate=` setting that hands out what is there already and what is missing, as far as
/// systemd can delegate it.
fn delegate_setting(available: &[&str], missing: &[&str]) -> String {
    let mut wanted: Vec<&str> = available
        .iter()
        .chain(missing)
        .copied()
        .filter(|c| SYSTEMD_DELEGATES.contains(c))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    format!("Delegate={}", wanted.join(" "))
}

/// Names who must delegate the missing controllers, and how, from the delegated cgroup's path:
/// a unit below a user manager gets its controllers from `user@UID.service` (or whichever service
/// manages it), a system unit from its own `Delegate=`.
pub fn delegation_fix(delegated: &str, available: &[&str], missing: &[&str]) -> (String, String) {
    let mut units = delegated.split('/').filter(|c| !c.is_empty()).rev();
    let Some(unit) = units.next() else {
        return (
            "this cgroup".to_owned(),
            "the cgroup above must enable them in its cgroup.subtree_control (for a container, \
             the container manager must delegate them)"
                .to_owned(),
        );
    };
    match units.find(|c| c.ends_with(".service")) {
        Some(manager) => (manager.to_owned(), manager_fix(manager, available, missing)),
        None => (
            unit.to_owned(),
            format!(
                "the unit itself lacks Delegate= for them: add `{}` to its [Service] section, \
                 then systemctl daemon-reload and restart it",
                delegate_setting(available, missing)
            ),
        ),
    }
}

/// What the service manager `manager` (`user@1000.service`), which has `available`, needs so that
/// its units get `missing` too.
pub fn manager_fix(manager: &str, available: &[&str], missing: &[&str]) -> String {
    if let Some(fix) = manual_fix(missing, manager) {
        return fix;
    }
    let template = match manager.split_once('@') {
        Some((prefix, _)) => format!("{prefix}@.service"),
        None => manager.to_owned(),
    };
    let then = if template == "user@.service" {
        format!("log out and in again (or: sudo systemctl restart {manager})")
    } else {
        format!("sudo systemctl restart {manager}")
    };
    // A command to paste, not a description of one: the drop-in's path is where it goes wrong.
    let dir = format!("/etc/systemd/system/{template}.d");
    format!(
        "sudo mkdir -p {dir} && printf '[Service]\\n{}\\n' | sudo tee {dir}/delegate.conf && \
         sudo systemctl daemon-reload, then {then}",
        delegate_setting(available, missing)
    )
}

/// Why a write into the cgroup tree was refused, when the errno says it is a permission matter.
pub fn not_writable_fix(errno: Errno) -> Option<String> {
    match errno {
        Errno::ACCESS | Errno::PERM | Errno::ROFS => Some(
            "the cgroup is not delegated to this process: does the unit have Delegate=?".to_owned(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_unit_without_delegate_is_told_so() {
        let (to, fix) = delegation_fix("system.slice/web.service", &["memory", "pids"], &["cpu"]);
        assert_eq!(to, "web.service");
        assert!(fix.starts_with(
            "the unit itself lacks Delegate= for them: add `Delegate=cpu memory pids`"
        ));
        let (to, fix) = delegation_fix("system.slice/box.service/inner.service", &[], &["io"]);
        assert_eq!(to, "box.service");
        assert!(
            fix.contains("/etc/systemd/system/box.service.d/delegate.conf"),
            "{fix}"
        );
        assert!(fix.ends_with("restart box.service"), "{fix}");
        assert_eq!(delegation_fix("", &[], &["io"]).0, "this cgroup");
    }

    #[test]
    fn a_user_manager_gets_the_drop_in_or_the_manual_steps() {
        let unit = "user.slice/user-1000.slice/user@1000.service/app.slice/web.service";
        let (to, fix) = delegation_fix(unit, &["cpu", "memory", "pids"], &["io"]);
        assert_eq!(to, "user@1000.service");
        assert_eq!(
            fix,
            manager_fix("user@1000.service", &["cpu", "memory", "pids"], &["io"])
        );
        assert_eq!(
            fix,
            "sudo mkdir -p /etc/systemd/system/user@.service.d && printf \
             '[Service]\\nDelegate=cpu io memory pids\\n' | sudo tee \
             /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload, \
             then log out and in again (or: sudo systemctl restart user@1000.service)"
        );
        let fix = manager_fix("user@1000.service", &["memory"], &["hugetlb", "io"]);
        assert!(
            fix.starts_with("systemd never delegates hugetlb: as root, write `+hugetlb`"),
            "{fix}"
        );
        assert!(fix.contains("down to user@1000.service"), "{fix}");
    }
}
