//! The cgroup half of the launcher: enter the leaf, enable controllers in the delegated cgroup,
//! write the limits systemd cannot express.
//!
//! Everything is opened relative to directory file descriptors with `O_NOFOLLOW` and without
//! `O_CREAT`: the delegated subtree is writable by the unit (and, under a user manager, by the
//! user), so anything in it may have been replaced by a symlink or a stray file, and the launcher
//! must neither follow one out of the subtree nor create files the kernel did not.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::thread::sleep;
use std::time::Duration;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::error::LaunchError;
use super::grammar::{CgroupWrite, LaunchSpec, check_leaf_name};
use super::host::Host;
use crate::interface_file::InterfaceFile;

/// How often to retry a controller that the kernel reports busy, 1 ms apart: long enough for a
/// migration in flight to settle, short enough not to delay a unit that will fail anyway.
const EBUSY_RETRIES: u32 = 100;

/// Does the cgroup work of `spec` and returns the writes `--best-effort` let fail, for the caller
/// to report as warnings.
pub fn setup(spec: &LaunchSpec, host: &Host) -> Result<Vec<LaunchError>, LaunchError> {
    let Some(leaf_name) = spec.leaf.as_deref() else {
        return Err(LaunchError::Usage(
            "--controllers and --write need --leaf: limits go into a leaf below the delegated \
             cgroup, never into the cgroup systemd manages"
                .to_owned(),
        ));
    };
    check_leaf_name(leaf_name).map_err(|e| LaunchError::Usage(e.0))?;
    if let Some(supervisor) = spec.supervisor.as_deref() {
        check_leaf_name(supervisor).map_err(|e| LaunchError::Usage(e.0))?;
        if supervisor == leaf_name {
            return Err(LaunchError::Usage(format!(
                "--supervisor {supervisor}: must differ from --leaf"
            )));
        }
    }
    let tree = Tree::enter(host, leaf_name, spec.supervisor.as_deref())?;
    tree.enable_controllers(&spec.needed_controllers())?;
    tree.stay_entered()?;
    let mut skipped = Vec::new();
    for write in &spec.writes {
        match tree.write(write) {
            Err(failed @ LaunchError::Write { .. }) if spec.best_effort => skipped.push(failed),
            result => result?,
        }
    }
    Ok(skipped)
}

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
    /// Opens the delegated cgroup and the leaf. The launcher runs in the leaf, or with
    /// `--supervisor` in that leaf beside it; it creates the one it runs in and moves itself in,
    /// unless systemd already started it there (`DelegateSubgroup=`), and creates the other one
    /// empty.
    fn enter(host: &Host, leaf_name: &str, supervisor: Option<&str>) -> Result<Tree, LaunchError> {
        let own_name = supervisor.unwrap_or(leaf_name);
        let own = host.cgroup.trim_matches('/');
        let (parent, last) = own.rsplit_once('/').unwrap_or(("", own));
        let in_own = last == own_name;
        let delegated_cgroup = if in_own { parent } else { own }.to_owned();
        let delegated_path = host.mount.join(&delegated_cgroup);

        let delegated = rustix::fs::open(
            &delegated_path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| LaunchError::Sys {
            what: format!(
                "cannot open the delegated cgroup {}",
                delegated_path.display()
            ),
            errno,
            fix: None,
        })?;
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
            pid: host.pid,
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
    fn move_in(&self) -> Result<(), LaunchError> {
        let Some(entered) = &self.entered else {
            return Ok(());
        };
        let dir = entered.supervisor.as_ref().unwrap_or(&self.leaf);
        write_at(dir, "cgroup.procs", &entered.pid.to_string()).map_err(|errno| {
            let procs = entered.path.join("cgroup.procs");
            LaunchError::Sys {
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
    fn stay_entered(&self) -> Result<(), LaunchError> {
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

    /// Opens a running unit's delegated cgroup (`ControlGroup`, below the cgroup `mount`) and
    /// its existing leaf, creating nothing: what `ociunit apply` writes a changed limit into.
    pub fn open(
        mount: &std::path::Path,
        cgroup: &str,
        leaf_name: &str,
    ) -> Result<Tree, LaunchError> {
        check_leaf_name(leaf_name).map_err(|e| LaunchError::Usage(e.0))?;
        let delegated_cgroup = cgroup.trim_matches('/').to_owned();
        let delegated_path = mount.join(&delegated_cgroup);
        let delegated = rustix::fs::open(
            &delegated_path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| LaunchError::Sys {
            what: format!("cannot open the unit's cgroup {}", delegated_path.display()),
            errno,
            fix: None,
        })?;
        let leaf = open_child(&delegated, &delegated_path, leaf_name, false)?;
        Ok(Tree {
            delegated_cgroup,
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

    /// Enables `needed` in the delegated cgroup's `cgroup.subtree_control`, after checking that
    /// systemd delegated them, since the kernel's answer for an undelegated controller (ENOENT
    /// or EINVAL on the write) does not say what to fix.
    pub fn enable_controllers(&self, needed: &[String]) -> Result<(), LaunchError> {
        if needed.is_empty() {
            return Ok(());
        }
        let available =
            read_at(&self.delegated, "cgroup.controllers").map_err(|errno| LaunchError::Sys {
                what: format!(
                    "cannot read {}",
                    self.delegated_path.join("cgroup.controllers").display()
                ),
                errno,
                fix: None,
            })?;
        let available: Vec<&str> = available.split_whitespace().collect();
        let missing: Vec<String> = needed
            .iter()
            .filter(|c| !available.contains(&c.as_str()))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let (to, fix) = delegation_fix(&self.delegated_cgroup, &available, &missing);
            return Err(LaunchError::NotDelegated {
                controllers: missing,
                controllers_file: self.delegated_path.join("cgroup.controllers"),
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

    fn enable_error(&self, value: &str, errno: Errno) -> LaunchError {
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
        LaunchError::Sys {
            what: format!("cannot write {value:?} to {}", path.display()),
            errno,
            fix,
        }
    }

    /// Writes one `--write` into the leaf.
    pub fn write(&self, write: &CgroupWrite) -> Result<(), LaunchError> {
        // The grammar already refused these names; a refusal here means a programming error
        // upstream, so check again where it matters, at the open.
        let name = write.file.as_str();
        InterfaceFile::parse(name)
            .map_err(|why| LaunchError::Usage(format!("refused to write {name:?}: {why}")))?;
        let path = self.leaf_path.join(name);
        let failed = |value: &str, errno| LaunchError::Write {
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

/// Opens the child cgroup `name` of the delegated cgroup, creating it first if `create`; never
/// through a symlink.
fn open_child(
    delegated: &OwnedFd,
    delegated_path: &std::path::Path,
    name: &str,
    create: bool,
) -> Result<OwnedFd, LaunchError> {
    let path = delegated_path.join(name);
    if create {
        match rustix::fs::mkdirat(delegated, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => {
                return Err(LaunchError::Sys {
                    what: format!("cannot create the leaf cgroup {}", path.display()),
                    errno,
                    fix: not_writable_fix(errno),
                });
            }
        }
    }
    rustix::fs::openat(
        delegated,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| LaunchError::Sys {
        what: format!("cannot open the leaf cgroup {}", path.display()),
        errno,
        fix: match errno {
            Errno::LOOP | Errno::NOTDIR => {
                Some("it is a symlink or not a directory; refusing to use it".to_owned())
            }
            _ => None,
        },
    })
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

/// Files such as `io.max` and `rdma.max` take one entry per write(2), so a multi-line value is
/// written line by line; empty lines carry nothing.
fn lines(value: &str) -> impl Iterator<Item = &str> {
    value.split('\n').filter(|line| !line.is_empty())
}

/// The controllers systemd's `Delegate=` knows; others (hugetlb, rdma, misc) it never
/// delegates, so root has to enable them by hand down the tree.
pub const SYSTEMD_DELEGATES: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

/// For controllers systemd cannot delegate: what root has to do instead.
pub fn manual_delegation_fix(missing: &[&str], down_to: &str) -> Option<String> {
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

/// Names who must delegate the missing controllers, and how, from the delegated cgroup's path:
/// a unit below a user manager gets its controllers from `user@UID.service` (or whichever service
/// manages it), a system unit from its own `Delegate=`.
fn delegation_fix(delegated: &str, available: &[&str], missing: &[String]) -> (String, String) {
    let mut wanted: Vec<&str> = available
        .iter()
        .copied()
        .chain(missing.iter().map(String::as_str))
        .filter(|c| SYSTEMD_DELEGATES.contains(c))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let delegate = format!("Delegate={}", wanted.join(" "));
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
        Some(manager) => {
            let template = match manager.split_once('@') {
                Some((prefix, _)) => format!("{prefix}@.service"),
                None => manager.to_owned(),
            };
            let then = if template == "user@.service" {
                "log in again".to_owned()
            } else {
                format!("restart {manager}")
            };
            let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
            let fix = match manual_delegation_fix(&missing, manager) {
                Some(fix) => fix,
                None => format!(
                    "add `{delegate}` in a drop-in for {template} \
                     (/etc/systemd/system/{template}.d/delegate.conf), then systemctl daemon-reload and {then}"
                ),
            };
            (manager.to_owned(), fix)
        }
        None => (
            unit.to_owned(),
            format!(
                "the unit itself lacks Delegate= for them: add `{delegate}` to its [Service] section, \
                 then systemctl daemon-reload and restart it"
            ),
        ),
    }
}

fn not_writable_fix(errno: Errno) -> Option<String> {
    match errno {
        Errno::ACCESS | Errno::PERM | Errno::ROFS => Some(
            "the cgroup is not delegated to this process: does the unit have Delegate=?".to_owned(),
        ),
        _ => None,
    }
}

fn open_for_write(dir: impl AsFd, name: &str) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

fn write_all(fd: impl AsFd, text: &str) -> Result<(), Errno> {
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        let written = rustix::io::write(&fd, bytes)?;
        bytes = &bytes[written..];
    }
    Ok(())
}

fn write_at(dir: impl AsFd, name: &str, text: &str) -> Result<(), Errno> {
    write_all(open_for_write(dir, name)?, text)
}

fn read_at(dir: impl AsFd, name: &str) -> Result<String, Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut text = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut text)
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const UNIT: &str = "user.slice/user-1000.slice/user@1000.service/app.slice/web.service";

    /// A cgroup tree in a temporary directory, laid out as the kernel would after systemd
    /// delegated `UNIT` with the controllers `available`.
    struct Fake {
        root: tempfile::TempDir,
    }

    impl Fake {
        fn new(available: &str) -> Fake {
            let fake = Fake {
                root: tempfile::tempdir().unwrap(),
            };
            fake.files(
                UNIT,
                &[
                    ("cgroup.controllers", available),
                    ("cgroup.subtree_control", ""),
                ],
            );
            fake.files(UNIT, &[("cgroup.procs", ""), ("memory.max", "max")]);
            fake
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.root.path().join(rel)
        }

        fn files(&self, dir: &str, files: &[(&str, &str)]) {
            fs::create_dir_all(self.path(dir)).unwrap();
            for (name, text) in files {
                fs::write(self.path(dir).join(name), text).unwrap();
            }
        }

        /// The leaf as it looks once the kernel populated it (a restarted unit finds it so).
        fn leaf(&self, files: &[&str]) {
            let empty: Vec<(&str, &str)> = files.iter().map(|f| (*f, "")).collect();
            self.files(&format!("{UNIT}/payload"), &empty);
        }

        fn read(&self, rel: &str) -> String {
            fs::read_to_string(self.path(rel)).unwrap()
        }

        fn host(&self, cgroup: &str) -> Host {
            Host {
                mount: self.root.path().to_owned(),
                cgroup: cgroup.to_owned(),
                pid: 4242,
            }
        }

        fn setup(&self, args: &[&str]) -> Result<Vec<LaunchError>, LaunchError> {
            self.setup_in(UNIT, args)
        }

        fn setup_in(&self, cgroup: &str, args: &[&str]) -> Result<Vec<LaunchError>, LaunchError> {
            let args = args
                .iter()
                .chain(&["--", "/bin/true"])
                .map(|a| a.to_string());
            setup(
                &LaunchSpec::parse(args).unwrap().launch(),
                &self.host(cgroup),
            )
        }
    }

    fn leaf_file(file: &str) -> String {
        format!("{UNIT}/payload/{file}")
    }

    #[test]
    fn creates_the_leaf_and_moves_itself_in() {
        let fake = Fake::new("cpu memory pids");
        // An empty directory stands for the fresh leaf: the kernel would have populated it, so
        // the move fails, but only after the leaf was created.
        let err = fake.setup(&["--leaf", "payload"]).unwrap_err().to_string();
        assert!(fake.path(&format!("{UNIT}/payload")).is_dir());
        let procs = fake.path(&leaf_file("cgroup.procs"));
        assert!(
            err.contains(&format!(
                "cannot move pid 4242 into {}: ENOENT",
                procs.display()
            )),
            "{err}"
        );

        fake.leaf(&["cgroup.procs"]);
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&leaf_file("cgroup.procs")), "4242");
        assert_eq!(
            fake.read(&format!("{UNIT}/cgroup.procs")),
            "",
            "wrote outside the leaf"
        );
    }

    /// runc's layout: the launcher (then runc) in `supervisor`, the limits in an empty
    /// `payload` beside it, for runc to put the container into.
    #[test]
    fn a_supervisor_leaf_holds_the_launcher_and_the_payload_leaf_stays_empty() {
        let fake = Fake::new("cpu memory pids");
        fake.files(&format!("{UNIT}/supervisor"), &[("cgroup.procs", "")]);
        fake.leaf(&["cgroup.procs", "memory.max"]);
        let args = ["--leaf", "payload", "--supervisor", "supervisor"];
        let writes = ["--write", "memory.max=1000000000"];
        let all: Vec<&str> = args.iter().chain(&writes).copied().collect();
        assert!(fake.setup(&all).unwrap().is_empty());
        assert_eq!(
            fake.read(&format!("{UNIT}/supervisor/cgroup.procs")),
            "4242"
        );
        assert_eq!(
            fake.read(&leaf_file("cgroup.procs")),
            "",
            "moved into the payload leaf"
        );
        assert_eq!(fake.read(&leaf_file("memory.max")), "1000000000");
        assert_eq!(
            fake.read(&format!("{UNIT}/cgroup.subtree_control")),
            "+memory"
        );

        // Started there by DelegateSubgroup=supervisor: the unit is the parent, nothing moves.
        fake.files(&format!("{UNIT}/supervisor"), &[("cgroup.procs", "")]);
        let supervisor = format!("{UNIT}/supervisor");
        assert!(fake.setup_in(&supervisor, &all).unwrap().is_empty());
        assert_eq!(fake.read(&format!("{UNIT}/supervisor/cgroup.procs")), "");

        let same = ["--leaf", "payload", "--supervisor", "payload"];
        assert!(
            fake.setup(&same)
                .unwrap_err()
                .to_string()
                .contains("must differ")
        );
    }

    #[test]
    fn already_in_the_leaf_it_stays_and_the_parent_is_delegated() {
        let fake = Fake::new("cpu memory pids");
        fake.leaf(&[
            "cgroup.procs",
            "cgroup.controllers",
            "cgroup.subtree_control",
            "pids.max",
        ]);
        let in_leaf = format!("{UNIT}/payload");
        fake.setup_in(&in_leaf, &["--leaf", "payload", "--write", "pids.max=64"])
            .unwrap();
        assert_eq!(
            fake.read(&leaf_file("cgroup.procs")),
            "",
            "moved although already there"
        );
        assert_eq!(
            fake.read(&format!("{UNIT}/cgroup.subtree_control")),
            "+pids"
        );
        assert_eq!(fake.read(&leaf_file("cgroup.subtree_control")), "");
        assert_eq!(fake.read(&leaf_file("pids.max")), "64");
    }

    #[test]
    fn enables_the_explicit_controllers_then_those_the_writes_need() {
        let fake = Fake::new("cpuset cpu io memory pids");
        fake.leaf(&["cgroup.procs", "cpu.max", "pids.max"]);
        let args = [
            "--leaf",
            "payload",
            "--controllers",
            "memory",
            "--write",
            "cpu.max=50000 100000",
        ];
        fake.setup(&[&args[..], &["--write", "pids.max=10"]].concat())
            .unwrap();
        assert_eq!(
            fake.read(&format!("{UNIT}/cgroup.subtree_control")),
            "+memory +cpu +pids"
        );
    }

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

    /// A leaf the launcher moved itself into gets a controller enabled above it even when the
    /// bundle needs none, so that systemd's late attach cannot pull the payload out of it.
    #[test]
    fn pins_the_leaf_with_pids_when_nothing_else_is_enabled() {
        let fake = Fake::new("cpu memory pids");
        fake.leaf(&["cgroup.procs"]);
        let control = format!("{UNIT}/cgroup.subtree_control");
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&control), "+pids");
        assert_eq!(fake.read(&leaf_file("cgroup.procs")), "4242");

        let fake = Fake::new("memory");
        fake.leaf(&["cgroup.procs"]);
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&control), "+memory");

        let fake = Fake::new("");
        fake.leaf(&["cgroup.procs"]);
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&control), "", "nothing to enable");

        // Started in its leaf by systemd (DelegateSubgroup=, from 254 on): no late attach.
        let fake = Fake::new("cpu memory pids");
        fake.leaf(&["cgroup.procs"]);
        fake.setup_in(&format!("{UNIT}/payload"), &["--leaf", "payload"])
            .unwrap();
        assert_eq!(fake.read(&control), "");
    }

    #[test]
    fn a_failed_controller_is_named_and_stops_the_launch() {
        let fake = Fake::new("cpu memory");
        fake.leaf(&["cgroup.procs", "memory.max"]);
        // A directory in place of the file makes every write fail, so the fallback runs and
        // reports the first controller on its own.
        let control = fake.path(&format!("{UNIT}/cgroup.subtree_control"));
        fs::remove_file(&control).unwrap();
        fs::create_dir(&control).unwrap();
        let err = fake.setup(&[
            "--leaf",
            "payload",
            "--controllers",
            "cpu,memory",
            "--write",
            "memory.max=1",
        ]);
        let err = err.unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "cannot write \"+cpu\" to {}: EISDIR",
                control.display()
            )),
            "{err}"
        );
        assert_eq!(
            fake.read(&leaf_file("memory.max")),
            "",
            "wrote a limit after a failure"
        );
    }

    #[test]
    fn an_rt_task_blocking_cpu_is_explained() {
        let fake = Fake::new("cpu");
        fake.leaf(&["cgroup.procs"]);
        let tree = Tree::enter(&fake.host(UNIT), "payload", None).unwrap();
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

    #[test]
    fn a_controller_missing_from_cgroup_controllers_names_who_must_delegate_it() {
        let fake = Fake::new("cpu memory pids");
        fake.leaf(&["cgroup.procs", "io.max"]);
        let err = fake
            .setup(&["--leaf", "payload", "--write", "io.max=8:0 rbps=1"])
            .unwrap_err();
        assert!(
            matches!(&err, LaunchError::NotDelegated { controllers, .. } if controllers == &["io"])
        );
        let controllers = fake.path(&format!("{UNIT}/cgroup.controllers"));
        assert_eq!(
            err.to_string(),
            format!(
                "io controller not delegated to user@1000.service (missing from {}): add \
                 `Delegate=cpu io memory pids` in a drop-in for user@.service \
                 (/etc/systemd/system/user@.service.d/delegate.conf), then systemctl daemon-reload \
                 and log in again",
                controllers.display()
            )
        );
        assert_eq!(fake.read(&format!("{UNIT}/cgroup.subtree_control")), "");
        assert_eq!(fake.read(&leaf_file("io.max")), "");
    }

    #[test]
    fn a_system_unit_without_delegate_is_told_so() {
        let (to, fix) = delegation_fix(
            "system.slice/web.service",
            &["memory", "pids"],
            &["cpu".into()],
        );
        assert_eq!(to, "web.service");
        assert!(fix.starts_with(
            "the unit itself lacks Delegate= for them: add `Delegate=cpu memory pids`"
        ));
        let (to, fix) = delegation_fix(
            "system.slice/box.service/inner.service",
            &[],
            &["io".into()],
        );
        assert_eq!(to, "box.service");
        assert!(
            fix.contains("/etc/systemd/system/box.service.d/delegate.conf"),
            "{fix}"
        );
        assert!(fix.ends_with("restart box.service"), "{fix}");
        assert_eq!(delegation_fix("", &[], &["io".into()]).0, "this cgroup");
    }

    #[test]
    fn writes_go_into_the_leaf_in_order_and_line_by_line() {
        let fake = Fake::new("cpu io memory rdma");
        fake.leaf(&[
            "cgroup.procs",
            "memory.max",
            "cpu.max.burst",
            "io.max",
            "rdma.max",
        ]);
        fake.setup(&[
            "--leaf",
            "payload",
            "--write",
            "memory.max=1073741824",
            "--write",
            "cpu.max.burst=20000",
            "--write",
            "io.max=8:0 rbps=1048576\n\n8:16 wiops=100\n",
            "--write",
            "rdma.max=mlx5_1 hca_handle=3",
            "--write",
            "memory.max=2147483648",
        ])
        .unwrap();
        // Each file is opened once per --write, so the later memory.max wins; the lines of one
        // value follow each other in the fake file, one write(2) after another.
        assert_eq!(fake.read(&leaf_file("memory.max")), "2147483648");
        assert_eq!(fake.read(&leaf_file("cpu.max.burst")), "20000");
        assert_eq!(
            fake.read(&leaf_file("io.max")),
            "8:0 rbps=10485768:16 wiops=100"
        );
        assert_eq!(fake.read(&leaf_file("rdma.max")), "mlx5_1 hca_handle=3");
        assert_eq!(
            fake.read(&format!("{UNIT}/memory.max")),
            "max",
            "touched the unit's own limit"
        );
        assert_eq!(
            fake.read(&format!("{UNIT}/cgroup.subtree_control")),
            "+memory +cpu +io +rdma"
        );
    }

    #[test]
    fn multi_line_values_split_into_non_empty_lines() {
        assert_eq!(lines("a b\nc\n\nd").collect::<Vec<_>>(), ["a b", "c", "d"]);
        assert_eq!(lines("max").collect::<Vec<_>>(), ["max"]);
        assert_eq!(lines("").count(), 0);
    }

    #[test]
    fn a_failed_write_stops_the_launch_unless_best_effort() {
        let args = [
            "--leaf",
            "payload",
            "--write",
            "memory.max=1",
            "--write",
            "hugetlb.1GB.max=0",
            "--write",
            "pids.max=10",
        ];
        let fake = Fake::new("hugetlb memory pids");
        fake.leaf(&["cgroup.procs", "memory.max", "pids.max"]);
        let err = fake.setup(&args).unwrap_err();
        let hugetlb = fake.path(&leaf_file("hugetlb.1GB.max"));
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write \"0\" to {}: ENOENT (No such file or directory); the kernel has no \
                 hugetlb support for that page size (see /sys/kernel/mm/hugepages)",
                hugetlb.display()
            )
        );
        assert_eq!(
            fake.read(&leaf_file("pids.max")),
            "",
            "kept going after a failure"
        );

        let fake = Fake::new("hugetlb memory pids");
        fake.leaf(&["cgroup.procs", "memory.max", "pids.max"]);
        let skipped = fake
            .setup(&[&args[..], &["--best-effort"]].concat())
            .unwrap();
        assert_eq!(skipped.len(), 1);
        assert!(matches!(
            &skipped[0],
            LaunchError::Write {
                errno: Errno::NOENT,
                ..
            }
        ));
        assert_eq!(fake.read(&leaf_file("memory.max")), "1");
        assert_eq!(fake.read(&leaf_file("pids.max")), "10");
    }

    #[test]
    fn best_effort_does_not_excuse_a_missing_controller() {
        let fake = Fake::new("memory");
        fake.leaf(&["cgroup.procs"]);
        let err = fake.setup(&[
            "--leaf",
            "payload",
            "--best-effort",
            "--write",
            "io.weight=100",
        ]);
        assert!(matches!(err, Err(LaunchError::NotDelegated { .. })));
    }

    #[test]
    fn refuses_to_follow_a_symlinked_file() {
        let fake = Fake::new("memory");
        fake.leaf(&["cgroup.procs"]);
        fake.files("elsewhere", &[("memory.max", "max")]);
        std::os::unix::fs::symlink(
            fake.path("elsewhere/memory.max"),
            fake.path(&leaf_file("memory.max")),
        )
        .unwrap();
        let err = fake
            .setup(&["--leaf", "payload", "--write", "memory.max=1"])
            .unwrap_err();
        assert!(err.to_string().contains("ELOOP"), "{err}");
        assert_eq!(fake.read("elsewhere/memory.max"), "max");
    }

    #[test]
    fn refuses_a_symlinked_or_non_directory_leaf() {
        let fake = Fake::new("memory");
        fake.files("elsewhere", &[("cgroup.procs", "")]);
        let leaf = fake.path(&format!("{UNIT}/payload"));
        std::os::unix::fs::symlink(fake.path("elsewhere"), &leaf).unwrap();
        let err = fake.setup(&["--leaf", "payload"]).unwrap_err().to_string();
        assert!(
            err.contains("ENOTDIR") && err.contains("refusing to use it"),
            "{err}"
        );
        assert_eq!(fake.read("elsewhere/cgroup.procs"), "");

        fs::remove_file(&leaf).unwrap();
        fs::write(&leaf, "").unwrap();
        let err = fake.setup(&["--leaf", "payload"]).unwrap_err().to_string();
        assert!(err.contains("ENOTDIR"), "{err}");
    }

    #[test]
    fn refuses_unsafe_names_before_touching_anything() {
        let fake = Fake::new("memory");
        for name in [
            "cgroup.procs",
            "../memory.max",
            "cgroup.subtree_control",
            "memory..max",
        ] {
            let arg = format!("{name}=1");
            let args = [
                "--leaf",
                "payload",
                "--write",
                arg.as_str(),
                "--",
                "/bin/true",
            ];
            assert!(
                LaunchSpec::parse(args.iter().map(|a| a.to_string())).is_err(),
                "{name}"
            );
        }
        assert!(!fake.path(&format!("{UNIT}/payload")).exists());
    }

    #[test]
    fn cgroup_work_needs_a_leaf() {
        let fake = Fake::new("memory");
        let err = fake.setup(&["--write", "memory.max=1"]).unwrap_err();
        assert!(matches!(err, LaunchError::Usage(_)), "{err}");
        assert_eq!(fake.read(&format!("{UNIT}/memory.max")), "max");
    }
}
