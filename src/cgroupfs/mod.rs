//! The cgroup v2 filesystem, for the launcher and the control plane alike: where the hierarchy
//! is mounted and where this process stands in it ([`Mount`]), fd-relative file I/O that never
//! follows a symlink out of a delegated subtree (`io`), interface-file names and writes
//! ([`file`](mod@file)), the delegated cgroup and the payload's leaf ([`tree`]), who must
//! delegate a missing controller ([`delegation`]), and the errors, each a line an operator can
//! act on ([`error`]). crun splits its cgroup code the same way (`cgroup.c`, `cgroup-setup.c`,
//! `cgroup-utils.c`).
//!
//! The mount and the own cgroup come from procfs rather than from assumptions (`/sys/fs/cgroup`,
//! a path passed by the compiler), because the same unit may run under the system manager, a
//! user manager or inside a container with its own cgroup namespace, and only the kernel knows
//! which.

#![warn(clippy::indexing_slicing)]

pub mod delegation;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod file;
mod io;
pub mod tree;

use std::path::PathBuf;

use rustix::io::Errno;

use error::CgroupError;

/// The cgroup v1 controllers; a v1 hierarchy carrying any of them means the host is hybrid and
/// that controller is unavailable in the v2 tree.
const V1_CONTROLLERS: [&str; 14] = [
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "blkio",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// The cgroup2 mount that shows this process's cgroup. Tests build one over a directory of their
/// own.
#[derive(Debug, PartialEq, Eq)]
pub struct Mount {
    /// Where the cgroup2 hierarchy is mounted, normally `/sys/fs/cgroup`.
    pub point: PathBuf,
    /// The cgroup shown at `point`: `/`, unless a container has only a subtree bind-mounted.
    pub root: String,
    /// This process's own cgroup relative to `point`, without a leading `/`; empty for the root.
    pub own: String,
}

impl Mount {
    /// Asks the kernel: `/proc/self/mountinfo` for the cgroup2 mount (and any v1 hierarchies
    /// that make the host hybrid), `/proc/self/cgroup` for this process's own cgroup.
    pub fn discover() -> Result<Mount, CgroupError> {
        let read = |path: &str| {
            std::fs::read_to_string(path).map_err(|e| CgroupError::Sys {
                what: format!("cannot read {path}"),
                errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
                fix: Some("is /proc mounted?".to_owned()),
            })
        };
        let mountinfo = read("/proc/self/mountinfo")?;
        let proc_cgroup = read("/proc/self/cgroup")?;
        Mount::from_proc(&mountinfo, &proc_cgroup)
    }

    /// The same from the two files' contents (doctor reads them from a root of its own).
    pub fn from_proc(mountinfo: &str, proc_cgroup: &str) -> Result<Mount, CgroupError> {
        let mounts: Vec<MountLine> = mountinfo.lines().filter_map(MountLine::parse).collect();
        let unified = "boot with systemd.unified_cgroup_hierarchy=1";
        if mounts.iter().any(MountLine::is_v1_with_controllers) {
            return Err(CgroupError::Host(format!(
                "this host mounts cgroup v1 (hybrid): the controllers it holds are missing from the \
                 cgroup v2 tree; {unified}"
            )));
        }
        let own = proc_cgroup
            .lines()
            .find_map(|line| line.strip_prefix("0::"))
            .ok_or_else(|| {
                CgroupError::Host(format!(
                    "no cgroup v2 entry (0::) in /proc/self/cgroup: this kernel or host uses cgroup v1 \
                     only; {unified}"
                ))
            })?;
        let mount = mounts
            .iter()
            .filter(|m| m.fstype == "cgroup2")
            .find_map(|m| Some((m, relative_to(own, &m.root)?)));
        let Some((mount, cgroup)) = mount else {
            return Err(CgroupError::Host(format!(
                "no cgroup2 mount in /proc/self/mountinfo shows this process's cgroup {own}: the \
                 host mounts cgroup v1 only (legacy); {unified}"
            )));
        };
        Ok(Mount {
            point: PathBuf::from(&mount.point),
            root: mount.root.clone(),
            own: cgroup.to_owned(),
        })
    }

    /// The directory of `cgroup`, a path from the hierarchy's root as systemd's `ControlGroup`
    /// names it, below this mount.
    pub fn dir(&self, cgroup: &str) -> Result<PathBuf, CgroupError> {
        let cgroup = format!("/{}", cgroup.trim_matches('/'));
        match relative_to(&cgroup, &self.root) {
            Some(below) => Ok(self.point.join(below)),
            None => Err(CgroupError::Host(format!(
                "the cgroup {cgroup} is not below the cgroup2 mount at {}, which shows {}",
                self.point.display(),
                self.root
            ))),
        }
    }
}

/// The part of `/proc/self/cgroup`'s path below a mount's root, when the mount shows it (a
/// container may have only a subtree bind-mounted).
fn relative_to<'a>(own: &'a str, root: &str) -> Option<&'a str> {
    let rest = own.strip_prefix(root.trim_end_matches('/'))?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(rest.trim_start_matches('/'))
}

/// The fields of a `/proc/self/mountinfo` line that find the cgroup2 mount.
struct MountLine {
    root: String,
    point: String,
    fstype: String,
    super_options: String,
}

impl MountLine {
    fn parse(line: &str) -> Option<MountLine> {
        let fields: Vec<&str> = line.split(' ').collect();
        let separator = fields.iter().position(|f| *f == "-")?;
        Some(MountLine {
            root: unescape(fields.get(3)?),
            point: unescape(fields.get(4)?),
            fstype: (*fields.get(separator + 1)?).to_owned(),
            super_options: (*fields.get(separator + 3)?).to_owned(),
        })
    }

    fn is_v1_with_controllers(&self) -> bool {
        self.fstype == "cgroup"
            && self
                .super_options
                .split(',')
                .any(|o| V1_CONTROLLERS.contains(&o))
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space) so that the path can be opened.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(digits) if byte == b'\\' => {
                out.push(
                    digits
                        .iter()
                        .fold(0u8, |n, d| n.wrapping_mul(8) + (d - b'0')),
                );
                i += 4;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIFIED: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

    /// This machine's mountinfo: systemd's hybrid layout.
    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    const SYSTEM_UNIT: &str = "0::/system.slice/web.service\n";

    #[test]
    fn finds_its_cgroup_under_the_unified_mount() {
        let mount = Mount::from_proc(UNIFIED, SYSTEM_UNIT).unwrap();
        assert_eq!(
            mount,
            Mount {
                point: "/sys/fs/cgroup".into(),
                root: "/".into(),
                own: "system.slice/web.service".into(),
            }
        );
        assert_eq!(Mount::from_proc(UNIFIED, "0::/\n").unwrap().own, "");
        assert_eq!(
            mount.dir("/user.slice/user-1000.slice").unwrap(),
            PathBuf::from("/sys/fs/cgroup/user.slice/user-1000.slice")
        );
        assert_eq!(mount.dir("/").unwrap(), PathBuf::from("/sys/fs/cgroup"));
    }

    #[test]
    fn a_hybrid_host_is_a_clear_error() {
        let err = Mount::from_proc(HYBRID, "4:memory:/\n0::/\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cgroup v1 (hybrid)"), "{err}");
        assert!(err.contains("systemd.unified_cgroup_hierarchy=1"), "{err}");
    }

    #[test]
    fn a_v1_only_host_is_a_clear_error() {
        let legacy =
            "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n";
        let err = Mount::from_proc(legacy, "1:name=systemd:/system.slice/web.service\n0::/\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cgroup v1 only (legacy)"), "{err}");
        let err = Mount::from_proc(UNIFIED, "1:name=systemd:/\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no cgroup v2 entry"), "{err}");
    }

    #[test]
    fn a_named_v1_hierarchy_alone_is_not_hybrid() {
        let named =
            format!("{UNIFIED}50 22 0:40 / /run/cg rw - cgroup cgroup rw,none,name=systemd\n");
        assert!(Mount::from_proc(&named, SYSTEM_UNIT).is_ok());
    }

    #[test]
    fn a_bind_mounted_subtree_is_relative_to_its_root() {
        let container = "\
900 800 0:26 /system.slice/box.scope /sys/fs/cgroup rw - cgroup2 cgroup2 rw
901 800 0:26 /other /mnt/other\\040dir rw - cgroup2 cgroup2 rw
";
        let mount = Mount::from_proc(container, "0::/system.slice/box.scope/app\n").unwrap();
        assert_eq!(
            (mount.point.to_str().unwrap(), mount.own.as_str()),
            ("/sys/fs/cgroup", "app")
        );
        assert_eq!(
            mount.dir("/system.slice/box.scope/app/payload").unwrap(),
            PathBuf::from("/sys/fs/cgroup/app/payload")
        );
        let outside = mount.dir("/system.slice/web.service").unwrap_err();
        assert!(
            outside.to_string().contains("not below the cgroup2 mount"),
            "{outside}"
        );
        let sibling = Mount::from_proc(container, "0::/system.slice/box.scope2\n");
        assert!(
            sibling.is_err(),
            "a prefix that is not a path component matched"
        );
        let spaced = Mount::from_proc(container, "0::/other\n").unwrap();
        assert_eq!(spaced.point, PathBuf::from("/mnt/other dir"));
    }
}
