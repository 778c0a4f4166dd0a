//! The host checks that need no bus: each reads files below a root directory (`/` on a real
//! host, a fake tree in tests) and says ok, warning or fail, with the fix.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cgroupfs::{Mount, delegation};
use crate::target::Manager;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Fail,
    /// Not run: a check it depends on failed, and its verdict would be noise.
    Skipped,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warning(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Warning,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn skipped(name: &'static str, why: impl std::fmt::Display) -> Check {
        Check {
            name,
            status: Status::Skipped,
            detail: why.to_string(),
            fix: None,
        }
    }
}

/// Where the host's files are.
pub struct Root(pub PathBuf);

impl Root {
    pub fn path(&self, absolute: &str) -> PathBuf {
        self.0.join(absolute.trim_start_matches('/'))
    }

    fn read(&self, absolute: &str) -> Option<String> {
        std::fs::read_to_string(self.path(absolute)).ok()
    }
}

/// The cgroup2 hierarchy as the [`cgroup_v2`] check found it: where it is mounted, below the
/// root.
pub struct Hierarchy(pub PathBuf);

impl Hierarchy {
    /// The cgroup the manager's units live under: the user manager's own, or the root.
    pub fn manager_cgroup(&self, manager: Manager, uid: u32) -> PathBuf {
        match manager {
            Manager::User => self
                .0
                .join(format!("user.slice/user-{uid}.slice/user@{uid}.service")),
            Manager::System => self.0.clone(),
        }
    }
}

/// The check, and the hierarchy the other cgroup checks read (`None` when there is no usable
/// one, and they are skipped).
pub fn cgroup_v2(root: &Root) -> (Check, Option<Hierarchy>) {
    const NAME: &str = "cgroup v2";
    let (Some(mountinfo), Some(cgroup)) = (
        root.read("/proc/self/mountinfo"),
        root.read("/proc/self/cgroup"),
    ) else {
        let check = Check::fail(
            NAME,
            "cannot read /proc/self/mountinfo or /proc/self/cgroup",
            "mount /proc",
        );
        return (check, None);
    };
    match Mount::from_proc(&mountinfo, &cgroup) {
        Ok(mount) => {
            let check = Check::ok(
                NAME,
                format!("unified hierarchy at {}", mount.point.display()),
            );
            (
                check,
                Some(Hierarchy(root.path(&mount.point.to_string_lossy()))),
            )
        }
        Err(err) => {
            let check = Check::fail(
                NAME,
                err.to_string(),
                "add systemd.unified_cgroup_hierarchy=1 (and cgroup_no_v1=all) to the kernel command \
                 line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot",
            );
            (check, None)
        }
    }
}

/// The user's name, for the linger file: from /etc/passwd under the root.
fn user_name(root: &Root, uid: u32) -> Option<String> {
    root.read("/etc/passwd")?.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.get(2)? == &uid.to_string().as_str()).then(|| fields[0].to_owned())
    })
}

pub fn lingering(root: &Root, uid: u32) -> Check {
    const NAME: &str = "lingering";
    let name = user_name(root, uid).unwrap_or_else(|| uid.to_string());
    if root.path("/var/lib/systemd/linger").join(&name).exists() {
        Check::ok(
            NAME,
            format!("on for {name}: your manager and its units outlive your sessions"),
        )
    } else {
        Check::warning(
            NAME,
            format!("off for {name}: persistent units stop when your last session ends"),
            format!("loginctl enable-linger {name}"),
        )
    }
}

/// The controllers `needed` against what the manager can hand out.
pub fn delegation(cgroups: &Hierarchy, manager: Manager, uid: u32, needed: &[String]) -> Check {
    const NAME: &str = "delegation";
    let dir = cgroups.manager_cgroup(manager, uid);
    let Ok(available) = std::fs::read_to_string(dir.join("cgroup.controllers")) else {
        return Check::fail(
            NAME,
            format!("cannot read {}", dir.join("cgroup.controllers").display()),
            match manager {
                Manager::User => "start your user manager: loginctl enable-linger, or log in",
                Manager::System => "mount cgroup v2 at /sys/fs/cgroup",
            },
        );
    };
    let available: Vec<&str> = available.split_whitespace().collect();
    let missing = delegation::missing(&available, needed);
    let holder = match manager {
        Manager::User => format!("user@{uid}.service"),
        Manager::System => "the root cgroup".to_owned(),
    };
    if missing.is_empty() {
        return Check::ok(
            NAME,
            format!(
                "{holder} has {} (needed: {})",
                available.join(" "),
                needed.join(" ")
            ),
        );
    }
    let detail = format!(
        "{} not delegated to {holder} (it has: {})",
        missing.join(", "),
        available.join(" ")
    );
    match manager {
        Manager::User => Check::fail(
            NAME,
            detail,
            delegation::manager_fix(&holder, &available, &missing),
        ),
        Manager::System => Check::fail(
            NAME,
            detail,
            "enable the controllers in the kernel (a kernel built without them cannot provide them)",
        ),
    }
}

/// An RT thread outside the root cgroup, by pid, tid and name.
#[derive(Debug, PartialEq, Eq)]
pub struct RealtimeThread {
    pub pid: u32,
    pub tid: u32,
    pub comm: String,
}

/// Real-time threads outside the root cgroup: with `CONFIG_RT_GROUP_SCHED` they keep the `cpu`
/// controller from being enabled (kernel commit 20d46283, crun#591).
pub fn realtime_threads(root: &Root) -> Vec<RealtimeThread> {
    let mut found = Vec::new();
    let Ok(processes) = std::fs::read_dir(root.path("/proc")) else {
        return found;
    };
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let in_root = std::fs::read_to_string(process.path().join("cgroup"))
            .map_or(true, |c| c.lines().any(|l| l == "0::/"));
        if in_root {
            continue;
        }
        let Ok(threads) = std::fs::read_dir(process.path().join("task")) else {
            continue;
        };
        for thread in threads.flatten() {
            let Some(tid) = thread
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(thread.path().join("stat")) else {
                continue;
            };
            if let Some(comm) = realtime_comm(&stat) {
                found.push(RealtimeThread { pid, tid, comm });
            }
        }
    }
    found.sort_by_key(|t| (t.pid, t.tid));
    found
}

/// The thread's name if its policy (field 41 of stat) is SCHED_FIFO (1) or SCHED_RR (2).
fn realtime_comm(stat: &str) -> Option<String> {
    let (head, tail) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1;
    // Fields after the name start at 3 (state); the policy is field 41.
    let policy: u32 = tail.split_whitespace().nth(41 - 3)?.parse().ok()?;
    matches!(policy, 1 | 2).then(|| comm.to_owned())
}

/// Whether the running kernel was built with `CONFIG_RT_GROUP_SCHED`, if its config is readable.
fn rt_group_sched(root: &Root) -> Option<bool> {
    let release = root.read("/proc/sys/kernel/osrelease")?;
    let config = root.read(&format!("/boot/config-{}", release.trim()))?;
    Some(config.lines().any(|l| l == "CONFIG_RT_GROUP_SCHED=y"))
}

pub fn realtime(root: &Root, needs_cpu: bool) -> Check {
    const NAME: &str = "realtime";
    if !needs_cpu {
        return Check::ok(NAME, "the cpu controller is not needed");
    }
    let threads = realtime_threads(root);
    if threads.is_empty() {
        return Check::ok(NAME, "no real-time thread outside the root cgroup");
    }
    let list: Vec<String> = threads
        .iter()
        .map(|t| format!("{} (pid {}, tid {})", t.comm, t.pid, t.tid))
        .collect();
    let detail = format!(
        "real-time threads outside the root cgroup: {}",
        list.join(", ")
    );
    let fix = "move them to the root cgroup or make them SCHED_OTHER (chrt -o -p 0 TID), or disable \
               their real-time scheduling (e.g. rtkit-daemon, multipathd); check with ps ax -L -o \
               'pid tid cls rtprio comm' | grep -E 'RR|FF'";
    match rt_group_sched(root) {
        Some(false) => Check::ok(
            NAME,
            format!("{detail}; harmless: this kernel has no CONFIG_RT_GROUP_SCHED"),
        ),
        Some(true) => Check::fail(
            NAME,
            format!("{detail}: they keep +cpu from being enabled"),
            fix,
        ),
        None => Check::warning(
            NAME,
            format!("{detail}: with CONFIG_RT_GROUP_SCHED they keep +cpu from being enabled"),
            fix,
        ),
    }
}

/// Swap accounting, from `memory.swap.max` in the manager's cgroup — which only has it when the
/// memory controller is there: without it, the check is skipped rather than blame swap.
pub fn swap_accounting(cgroups: &Hierarchy, manager: Manager, uid: u32, needed: bool) -> Check {
    const NAME: &str = "swap";
    let dir = match manager {
        Manager::User => cgroups.manager_cgroup(manager, uid),
        Manager::System => cgroups.0.join("system.slice"),
    };
    let controllers = dir.join("cgroup.controllers");
    match std::fs::read_to_string(&controllers) {
        Ok(text) if text.split_whitespace().any(|c| c == "memory") => {}
        Ok(_) => {
            return Check::skipped(
                NAME,
                format!("no memory controller in {}", controllers.display()),
            );
        }
        Err(err) => {
            return Check::skipped(
                NAME,
                format!("cannot read {}: {err}", controllers.display()),
            );
        }
    }
    if Path::new(&dir.join("memory.swap.max")).exists() {
        return Check::ok(NAME, "swap accounting is on (memory.swap.max exists)");
    }
    let detail = format!(
        "no memory.swap.max in {}: swap accounting is off",
        dir.display()
    );
    let fix = "boot with swapaccount=1 (kernels before 5.8), or use a kernel built with CONFIG_MEMCG_SWAP";
    if needed {
        Check::fail(NAME, format!("{detail}, and the bundle limits swap"), fix)
    } else {
        Check::warning(NAME, detail, fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroupfs::fake::FakeTree;

    const UNIFIED: &str = "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    const HYBRID: &str = "30 1 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                          31 1 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    const USER_CGROUP: &str = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";

    fn hierarchy(root: &Path) -> Hierarchy {
        Hierarchy(root.join("sys/fs/cgroup"))
    }

    #[test]
    fn cgroup_v2_unified_and_hybrid() {
        let fake = FakeTree::default();
        fake.write(
            "/proc/self/cgroup",
            "0::/user.slice/user-1000.slice/session-1.scope\n",
        );
        fake.write("/proc/self/mountinfo", UNIFIED);
        let root = Root(fake.root().to_owned());
        let (check, cgroups) = cgroup_v2(&root);
        assert_eq!(check.status, Status::Ok);
        assert_eq!(cgroups.unwrap().0, fake.path("sys/fs/cgroup"));
        fake.write("/proc/self/mountinfo", HYBRID);
        let (check, cgroups) = cgroup_v2(&root);
        assert!(cgroups.is_none(), "the other cgroup checks are skipped");
        assert_eq!(check.status, Status::Fail);
        assert!(
            check
                .fix
                .unwrap()
                .contains("systemd.unified_cgroup_hierarchy=1")
        );
    }

    #[test]
    fn delegation_names_what_is_missing_and_the_drop_in() {
        let fake = FakeTree::default();
        fake.write(
            &format!("{USER_CGROUP}/cgroup.controllers"),
            "cpu memory pids\n",
        );
        let root = hierarchy(fake.root());
        let all: Vec<String> = delegation::SYSTEMD_DELEGATES
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        let check = delegation(&root, Manager::User, 1000, &all);
        assert_eq!(check.status, Status::Fail);
        assert!(
            check
                .detail
                .starts_with("cpuset, io not delegated to user@1000.service"),
            "{}",
            check.detail
        );
        assert!(
            check
                .fix
                .unwrap()
                .contains("Delegate=cpu cpuset io memory pids")
        );
        let needed = vec!["memory".to_owned(), "pids".to_owned()];
        assert_eq!(
            delegation(&root, Manager::User, 1000, &needed).status,
            Status::Ok
        );
        assert_eq!(
            delegation(&root, Manager::User, 1001, &needed).status,
            Status::Fail
        );
        let huge = vec!["memory".to_owned(), "hugetlb".to_owned()];
        let check = delegation(&root, Manager::User, 1000, &huge);
        assert!(
            check
                .fix
                .unwrap()
                .contains("systemd never delegates hugetlb")
        );
    }

    #[test]
    fn lingering_by_user_name() {
        let fake = FakeTree::default();
        fake.write(
            "/etc/passwd",
            "root:x:0:0::/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\n",
        );
        let root = Root(fake.root().to_owned());
        let check = lingering(&root, 1000);
        assert_eq!(check.status, Status::Warning);
        assert_eq!(check.fix.as_deref(), Some("loginctl enable-linger dev"));
        fake.write("/var/lib/systemd/linger/dev", "");
        assert_eq!(lingering(&root, 1000).status, Status::Ok);
    }

    fn stat(comm: &str, policy: u32) -> String {
        let mut fields: Vec<String> = (3..=52).map(|_| "0".to_owned()).collect();
        fields[41 - 3] = policy.to_string();
        format!("42 ({comm}) {}", fields.join(" "))
    }

    #[test]
    fn realtime_threads_outside_the_root_cgroup() {
        let fake = FakeTree::default();
        fake.write("/proc/42/cgroup", "0::/system.slice/rtkit-daemon.service\n");
        fake.write("/proc/42/task/42/stat", &stat("rtkit daemon", 0));
        fake.write("/proc/42/task/43/stat", &stat("rtkit) canary", 2));
        fake.write("/proc/7/cgroup", "0::/\n");
        fake.write("/proc/7/task/7/stat", &stat("in-root", 1));
        let root = Root(fake.root().to_owned());
        assert_eq!(
            realtime_threads(&root),
            vec![RealtimeThread {
                pid: 42,
                tid: 43,
                comm: "rtkit) canary".into()
            }]
        );
        assert_eq!(realtime(&root, true).status, Status::Warning);
        assert_eq!(realtime(&root, false).status, Status::Ok);
        fake.write("/proc/sys/kernel/osrelease", "6.1.0\n");
        fake.write("/boot/config-6.1.0", "CONFIG_RT_GROUP_SCHED=y\n");
        assert_eq!(realtime(&root, true).status, Status::Fail);
        fake.write("/boot/config-6.1.0", "# CONFIG_RT_GROUP_SCHED is not set\n");
        assert_eq!(realtime(&root, true).status, Status::Ok);
    }

    #[test]
    fn swap_accounting_matters_when_the_bundle_limits_swap() {
        let fake = FakeTree::default();
        fake.write(&format!("{USER_CGROUP}/cgroup.controllers"), "memory\n");
        let root = hierarchy(fake.root());
        assert_eq!(
            swap_accounting(&root, Manager::User, 1000, false).status,
            Status::Warning
        );
        assert_eq!(
            swap_accounting(&root, Manager::User, 1000, true).status,
            Status::Fail
        );
        fake.write(&format!("{USER_CGROUP}/memory.swap.max"), "max\n");
        assert_eq!(
            swap_accounting(&root, Manager::User, 1000, true).status,
            Status::Ok
        );
    }

    /// cgroup2 mounted elsewhere than /sys/fs/cgroup: the checks read it where it is, and swap
    /// is not blamed when the manager's cgroup has no memory controller to account it with.
    #[test]
    fn cgroup_checks_read_the_hierarchy_where_it_is_mounted() {
        let fake = FakeTree::default();
        fake.write(
            "/proc/self/cgroup",
            "0::/user.slice/user-1000.slice/session-1.scope\n",
        );
        fake.write(
            "/proc/self/mountinfo",
            "30 1 0:26 / /run/cgroup2 rw,nosuid - cgroup2 cgroup2 rw\n",
        );
        let root = Root(fake.root().to_owned());
        let (check, cgroups) = cgroup_v2(&root);
        assert_eq!(check.detail, "unified hierarchy at /run/cgroup2");
        let cgroups = cgroups.unwrap();
        let user = "/run/cgroup2/user.slice/user-1000.slice/user@1000.service";
        let needed = vec!["pids".to_owned()];

        let swap = swap_accounting(&cgroups, Manager::User, 1000, true);
        assert_eq!(swap.status, Status::Skipped, "{}", swap.detail);
        assert!(swap.detail.starts_with("cannot read "), "{}", swap.detail);
        fake.write(&format!("{user}/cgroup.controllers"), "pids\n");
        assert_eq!(
            delegation(&cgroups, Manager::User, 1000, &needed).status,
            Status::Ok
        );
        let swap = swap_accounting(&cgroups, Manager::User, 1000, true);
        assert_eq!(swap.status, Status::Skipped);
        assert!(
            swap.detail.starts_with("no memory controller in "),
            "{}",
            swap.detail
        );
        fake.write(&format!("{user}/cgroup.controllers"), "memory pids\n");
        fake.write(&format!("{user}/memory.swap.max"), "max\n");
        assert_eq!(
            swap_accounting(&cgroups, Manager::User, 1000, true).status,
            Status::Ok
        );
    }
}
