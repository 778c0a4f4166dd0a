//! A delegated cgroup and the payload's leaf below it: entered by the launcher (create the leaf,
//! move in, enable the controllers, stay there), opened by `ociunit apply` (read and write a
//! running unit's leaf).

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::Duration;

use rustix::io::Errno;

use super::Mount;
use super::delegation::{delegation_fix, missing, not_writable_fix};
use super::error::CgroupError;
use super::file::{CgroupWrite, is_leaf_name};
use super::io::{lines, open_child, open_dir, open_for_write, read_at, write_all, write_at};

/// How often to retry a controller that the kernel reports busy, 1 ms apart: long enough for a
/// migration in flight to settle, short enough not to delay a unit that will fail anyway.
const EBUSY_RETRIES: u32 = 100;

/// The delegated cgroup and the leaf below it, open.
pub struct Tree {
    /// The delegated cgroup relative to the mount, to name the unit in messages.
    delegated_cgroup: String,
    delegated_path: PathBuf,
    delegated: OwnedFd,
    leaf_path: PathBuf,
    leaf: OwnedFd,
    /// Where the launcher moved itself, when it did; see [`Tree::stay_entered`].
    entered: Option<Entered>,
}

/// The cgroup the launcher moved itself into: its leaf, or the `--supervisor` one.
struct Entered {
    /// The supervisor cgroup, open; `None` for the leaf.
    supervisor: Option<OwnedFd>,
    path: PathBuf,
    pid: u32,
}

impl Tree {
    /// Opens the delegated cgroup (the one `mount` says process `pid` runs in) and the leaf. The
    /// process runs in the leaf, or with `supervisor` in that leaf beside it; this creates the
    /// one it runs in and moves it in, unless systemd already started it there
    /// (`DelegateSubgroup=`), and creates the other one empty. The caller has checked both names
    /// with [`is_leaf_name`].
    pub fn enter(
        mount: &Mount,
        pid: u32,
        leaf_name: &str,
        supervisor: Option<&str>,
    ) -> Result<Tree, CgroupError> {
        let own_name = supervisor.unwrap_or(leaf_name);
        let own = mount.own.trim_matches('/');
        let (parent, last) = own.rsplit_once('/').unwrap_or(("", own));
        let in_own = last == own_name;
        let delegated_cgroup = if in_own { parent } else { own }.to_owned();
        let delegated_path = mount.point.join(&delegated_cgroup);

        let delegated = open_dir(&delegated_path, "the delegated cgroup")?;
        let child =
            |name: &str, create: bool| open_child(&delegated, &delegated_path, name, create);
        let own_fd = child(own_name, !in_own)?;
        let (leaf, own_fd) = match supervisor {
            Some(_) => (child(leaf_name, true)?, Some(own_fd)),
            None => (own_fd, None),
        };
        let entered = (!in_own).then(|| Entered {
            supervisor: own_fd,
            path: delegated_path.join(own_name),
            pid,
        });
        let tree = Tree {
            delegated_cgroup,
            leaf_path: delegated_path.join(leaf_name),
            delegated_path,
            delegated,
            leaf,
            entered,
        };
        tree.move_in()?;
        Ok(tree)
    }

    /// Moves the launcher into the cgroup it runs in, unless systemd started it there; again
    /// when it is there already, which the kernel takes as a no-op.
    fn move_in(&self) -> Result<(), CgroupError> {
        let Some(entered) = &self.entered else {
            return Ok(());
        };
        let dir = entered.supervisor.as_ref().unwrap_or(&self.leaf);
        write_at(dir, "cgroup.procs", &entered.pid.to_string()).map_err(|errno| {
            let procs = entered.path.join("cgroup.procs");
            CgroupError::Sys {
                what: format!("cannot move pid {} into {}", entered.pid, procs.display()),
                errno,
                fix: not_writable_fix(errno),
            }
        })
    }

    /// Makes sure the launcher is still in the cgroup it moved itself into, and stays there.
    ///
    /// systemd before 256 (and later ones without `CLONE_INTO_CGROUP`) attaches a new unit
    /// process to the unit's cgroup twice: in the child, and again in the manager once fork(2)
    /// returns there. On a loaded host the manager's attach can come after the launcher moved
    /// itself, and puts it back beside its leaf. Once the unit's cgroup has a controller enabled
    /// for its children and a populated child, the kernel refuses any move into it (the
    /// no-internal-process rule), and systemd ignores that failure. So the launcher makes sure
    /// one is enabled, then moves itself once more, which undoes an attach that came before.
    /// A unit with no controller delegated at all stays open to the late attach.
    pub fn stay_entered(&self) -> Result<(), CgroupError> {
        if self.entered.is_none() {
            return Ok(());
        }
        let enabled = read_at(&self.delegated, "cgroup.subtree_control").unwrap_or_default();
        if enabled.trim().is_empty() {
            let available = read_at(&self.delegated, "cgroup.controllers").unwrap_or_default();
            let available: Vec<&str> = available.split_whitespace().collect();
            // pids: the cheapest, and systemd's TasksMax= accounts with it anyway.
            if let Some(pin) = available
                .iter()
                .find(|c| **c == "pids")
                .or(available.first())
            {
                self.enable_controllers(&[(*pin).to_owned()])?;
            }
        }
        self.move_in()
    }

    /// Opens a running unit's delegated cgroup (`ControlGroup`, as systemd names it) and its
    /// existing leaf, creating nothing: what `ociunit apply` writes a changed limit into.
    pub fn open(mount: &Mount, cgroup: &str, leaf_name: &str) -> Result<Tree, CgroupError> {
        if !is_leaf_name(leaf_name) {
            return Err(CgroupError::Refused(format!(
                "{leaf_name:?} is not a leaf cgroup name: one path component of letters, digits, \
                 '-' and '_'"
            )));
        }
        let delegated_path = mount.dir(cgroup)?;
        let delegated = open_dir(&delegated_path, "the unit's cgroup")?;
        let leaf = open_child(&delegated, &delegated_path, leaf_name, false)?;
        Ok(Tree {
            delegated_cgroup: cgroup.trim_matches('/').to_owned(),
            leaf_path: delegated_path.join(leaf_name),
            delegated_path,
            delegated,
            leaf,
            entered: None,
        })
    }

    /// The leaf's interface file `name`, trimmed; `None` if it cannot be read (a controller
    /// not enabled has no files).
    pub fn read(&self, name: &str) -> Option<String> {
        read_at(&self.leaf, name)
            .ok()
            .map(|text| text.trim().to_owned())
    }

    /// Where the leaf is, for reports.
    pub fn leaf_path(&self) -> &std::path::Path {
        &self.leaf_path
    }

    /// Enables `needed` in the delegated cgroup's `cgroup.subtree_control`, after checking that
    /// systemd delegated them, since the kernel's answer for an undelegated controller (ENOENT
    /// or EINVAL on the write) does not say what to fix.
    pub fn enable_controllers(&self, needed: &[String]) -> Result<(), CgroupError> {
        if needed.is_empty() {
            return Ok(());
        }
        let controllers_file = self.delegated_path.join("cgroup.controllers");
        let available =
            read_at(&self.delegated, "cgroup.controllers").map_err(|errno| CgroupError::Sys {
                what: format!("cannot read {}", controllers_file.display()),
                errno,
                fix: None,
            })?;
        let available: Vec<&str> = available.split_whitespace().collect();
        let missing = missing(&available, needed);
        if !missing.is_empty() {
            let (to, fix) = delegation_fix(&self.delegated_cgroup, &available, &missing);
            return Err(CgroupError::NotDelegated {
                controllers: missing
                    .iter()
                    .map(std::string::ToString::to_string)
                    .collect(),
                controllers_file,
                to,
                fix,
            });
        }
        enable(
            needed,
            |value| write_at(&self.delegated, "cgroup.subtree_control", value),
            || {
                // The manager's late attach (see `stay_entered`) is the usual cause; undo it.
                let _ = self.move_in();
            },
        )
        .map_err(|(value, errno)| self.enable_error(&value, errno))
    }

    fn enable_error(&self, value: &str, errno: Errno) -> CgroupError {
        let fix = match errno {
            Errno::INVAL if value == "+cpu" => Some(
                "a real-time (SCHED_FIFO/SCHED_RR) process outside the root cgroup blocks the cpu \
                 controller (CONFIG_RT_GROUP_SCHED); find it with `ps ax -L -o 'pid tid cls rtprio \
                 comm' | grep -E 'RR|FF'` and move it to the root cgroup or drop its real-time \
                 priority"
                    .to_owned(),
            ),
            Errno::BUSY => {
                let procs = read_at(&self.delegated, "cgroup.procs").unwrap_or_default();
                let pids: Vec<&str> = procs.split_whitespace().collect();
                Some(format!(
                    "processes other than the payload are in {} (pids: {}; a cgroup with \
                     controllers enabled for its children may hold no processes)",
                    self.delegated_path.display(),
                    if pids.is_empty() {
                        "none left".to_owned()
                    } else {
                        pids.join(" ")
                    }
                ))
            }
            _ => not_writable_fix(errno),
        };
        let path = self.delegated_path.join("cgroup.subtree_control");
        CgroupError::Sys {
            what: format!("cannot write {value:?} to {}", path.display()),
            errno,
            fix,
        }
    }

    /// Writes one `--write` into the leaf. Its file is an [`InterfaceFile`], so it cannot leave
    /// the leaf or touch a `cgroup.*` core file.
    ///
    /// [`InterfaceFile`]: super::file::InterfaceFile
    pub fn write(&self, write: &CgroupWrite) -> Result<(), CgroupError> {
        let name = write.file.as_str();
        let path = self.leaf_path.join(name);
        let failed = |value: &str, errno| CgroupError::Write {
            path: path.clone(),
            value: value.to_owned(),
            errno,
        };
        let fd = open_for_write(&self.leaf, name).map_err(|errno| failed(&write.value, errno))?;
        for line in lines(&write.value) {
            write_all(&fd, line).map_err(|errno| failed(line, errno))?;
        }
        Ok(())
    }
}

/// Writes `+c1 +c2 …` in one go, the common case; if the kernel refuses, retries one controller
/// at a time so that the error names the controller at fault, waiting out EBUSY for a moment
/// and calling `busy` before each retry.
fn enable(
    controllers: &[String],
    mut write: impl FnMut(&str) -> Result<(), Errno>,
    mut busy: impl FnMut(),
) -> Result<(), (String, Errno)> {
    let all: Vec<String> = controllers.iter().map(|c| format!("+{c}")).collect();
    if write(&all.join(" ")).is_ok() {
        return Ok(());
    }
    for value in all {
        let mut retries = 0;
        loop {
            match write(&value) {
                Ok(()) => break,
                Err(Errno::BUSY) if retries < EBUSY_RETRIES => {
                    retries += 1;
                    busy();
                    sleep(Duration::from_millis(1));
                }
                Err(errno) => return Err((value, errno)),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroupfs::fake::{FakeTree, UNIT, leaf_file};

    #[test]
    fn falls_back_to_one_controller_at_a_time() {
        let needed = ["cpu".to_owned(), "memory".to_owned()];
        let mut seen = Vec::new();
        let result = enable(
            &needed,
            |value| {
                seen.push(value.to_owned());
                if value.contains(' ') {
                    Err(Errno::INVAL)
                } else {
                    Ok(())
                }
            },
            || panic!("not busy"),
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen, ["+cpu +memory", "+cpu", "+memory"]);
    }

    #[test]
    fn waits_out_a_busy_controller_for_a_bounded_time_undoing_a_late_attach() {
        let needed = ["cpu".to_owned(), "pids".to_owned()];
        let mut calls = 0;
        let mut moves = 0;
        let result = enable(
            &needed,
            |value| {
                calls += 1;
                match (value, calls) {
                    ("+cpu", 2..=4) => Err(Errno::BUSY),
                    ("+cpu" | "+pids", _) => Ok(()),
                    _ => Err(Errno::BUSY),
                }
            },
            || moves += 1,
        );
        assert_eq!((result, calls, moves), (Ok(()), 6, 3));

        let mut calls = 0;
        let result = enable(
            &needed,
            |_| {
                calls += 1;
                Err(Errno::BUSY)
            },
            || {},
        );
        assert_eq!(result, Err(("+cpu".to_owned(), Errno::BUSY)));
        assert_eq!(calls, 1 + EBUSY_RETRIES + 1);
    }

    #[test]
    fn an_rt_task_blocking_cpu_is_explained() {
        let fake = FakeTree::delegated("cpu");
        fake.leaf(&["cgroup.procs"]);
        let tree = Tree::enter(&fake.mount(UNIT), 4242, "payload", None).unwrap();
        let err = tree.enable_error("+cpu", Errno::INVAL).to_string();
        assert!(
            err.contains("EINVAL (Invalid argument); a real-time"),
            "{err}"
        );
        assert!(
            err.contains("ps ax -L -o 'pid tid cls rtprio comm' | grep -E 'RR|FF'"),
            "{err}"
        );
        let busy = tree.enable_error("+memory", Errno::BUSY).to_string();
        assert!(busy.contains("may hold no processes"), "{busy}");
    }

    /// `ociunit apply`'s view: a running unit's leaf, found from its `ControlGroup`, read and
    /// written without creating or moving anything.
    #[test]
    fn opens_a_running_units_leaf_without_creating_it() {
        let fake = FakeTree::delegated("memory");
        let mount = fake.mount("");
        let control_group = format!("/{UNIT}");
        let err = Tree::open(&mount, &control_group, "payload").err().unwrap();
        assert!(err.to_string().contains("ENOENT"), "{err}");
        assert!(!fake.path(&leaf_file("")).exists(), "created the leaf");

        fake.leaf(&["cgroup.procs", "memory.max"]);
        fake.write(&leaf_file("memory.high"), "max\n");
        let tree = Tree::open(&mount, &control_group, "payload").unwrap();
        assert_eq!(tree.read("memory.high").as_deref(), Some("max"));
        assert_eq!(tree.read("memory.low"), None);
        let file = crate::cgroupfs::file::InterfaceFile::parse("memory.max").unwrap();
        tree.write(&CgroupWrite::new(file, "1")).unwrap();
        assert_eq!(fake.read(&leaf_file("memory.max")), "1");
        assert_eq!(fake.read(&leaf_file("cgroup.procs")), "", "moved something");

        let refused = Tree::open(&mount, &control_group, "../payload")
            .err()
            .unwrap();
        assert!(matches!(refused, CgroupError::Refused(_)), "{refused}");
    }
}
