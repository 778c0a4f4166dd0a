//! The in-unit launcher, `ociunit-launch`.
//!
//! systemd cannot express every cgroup v2 limit, and a unit under a user manager gets no help
//! from systemd inside its delegated subtree. The unit's `ExecStart=` therefore runs the launcher,
//! which finishes the job inside the cgroup systemd delegated to it and then executes the payload
//! in its place, so that the payload is the unit's main process. It obeys its arguments
//! ([`grammar`]) and nothing else: it never reads the bundle. The cgroup work itself is
//! [`crate::cgroupfs`]'s.

pub mod error;
pub mod grammar;
pub mod manual;
pub mod process;

use std::convert::Infallible;

use crate::cgroupfs::Mount;
use crate::cgroupfs::error::CgroupError;
use crate::cgroupfs::tree::Tree;
use error::LaunchError;
use grammar::{LaunchSpec, check_leaf_name};

/// Does everything `spec` asks and becomes the payload; returns only on failure.
///
/// `find_mount` is called only when there is cgroup work, so that a launcher with none runs on
/// any host, cgroup v1 included.
pub fn run(
    spec: &LaunchSpec,
    find_mount: impl FnOnce() -> Result<Mount, CgroupError>,
) -> Result<Infallible, LaunchError> {
    if spec.touches_cgroups() {
        for skipped in setup(spec, &find_mount()?, std::process::id())? {
            eprintln!("ociunit-launch: warning: {skipped} (continuing: --best-effort)");
        }
    }
    process::exec(spec)
}

/// Does the cgroup work of `spec` for process `pid`, the launcher itself, which becomes the
/// payload; returns the writes `--best-effort` let fail, for the caller to report as warnings.
fn setup(spec: &LaunchSpec, mount: &Mount, pid: u32) -> Result<Vec<CgroupError>, LaunchError> {
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
    let tree = Tree::enter(mount, pid, leaf_name, spec.supervisor.as_deref())?;
    tree.enable_controllers(&spec.needed_controllers())?;
    tree.stay_entered()?;
    let mut skipped = Vec::new();
    for write in &spec.writes {
        match tree.write(write) {
            Err(failed @ CgroupError::Write { .. }) if spec.best_effort => skipped.push(failed),
            result => result?,
        }
    }
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use rustix::io::Errno;

    use super::*;
    use crate::cgroupfs::fake::{FakeTree, UNIT, leaf_file};

    /// The launcher's cgroup work over a fake tree, as process 4242 in `cgroup`, [`UNIT`] unless
    /// said otherwise.
    trait Setup {
        fn setup_in(&self, cgroup: &str, args: &[&str]) -> Result<Vec<CgroupError>, LaunchError>;

        fn setup(&self, args: &[&str]) -> Result<Vec<CgroupError>, LaunchError> {
            self.setup_in(UNIT, args)
        }
    }

    impl Setup for FakeTree {
        fn setup_in(&self, cgroup: &str, args: &[&str]) -> Result<Vec<CgroupError>, LaunchError> {
            let args = args
                .iter()
                .chain(&["--", "/bin/true"])
                .map(std::string::ToString::to_string);
            setup(
                &LaunchSpec::parse(args).unwrap().launch(),
                &self.mount(cgroup),
                4242,
            )
        }
    }

    #[test]
    fn creates_the_leaf_and_moves_itself_in() {
        let fake = FakeTree::delegated("cpu memory pids");
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
        let fake = FakeTree::delegated("cpu memory pids");
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
        let fake = FakeTree::delegated("cpu memory pids");
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
        let fake = FakeTree::delegated("cpuset cpu io memory pids");
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

    /// A leaf the launcher moved itself into gets a controller enabled above it even when the
    /// bundle needs none, so that systemd's late attach cannot pull the payload out of it.
    #[test]
    fn pins_the_leaf_with_pids_when_nothing_else_is_enabled() {
        let fake = FakeTree::delegated("cpu memory pids");
        fake.leaf(&["cgroup.procs"]);
        let control = format!("{UNIT}/cgroup.subtree_control");
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&control), "+pids");
        assert_eq!(fake.read(&leaf_file("cgroup.procs")), "4242");

        let fake = FakeTree::delegated("memory");
        fake.leaf(&["cgroup.procs"]);
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&control), "+memory");

        let fake = FakeTree::delegated("");
        fake.leaf(&["cgroup.procs"]);
        assert!(fake.setup(&["--leaf", "payload"]).unwrap().is_empty());
        assert_eq!(fake.read(&control), "", "nothing to enable");

        // Started in its leaf by systemd (DelegateSubgroup=, from 254 on): no late attach.
        let fake = FakeTree::delegated("cpu memory pids");
        fake.leaf(&["cgroup.procs"]);
        fake.setup_in(&format!("{UNIT}/payload"), &["--leaf", "payload"])
            .unwrap();
        assert_eq!(fake.read(&control), "");
    }

    #[test]
    fn a_failed_controller_is_named_and_stops_the_launch() {
        let fake = FakeTree::delegated("cpu memory");
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
    fn a_controller_missing_from_cgroup_controllers_names_who_must_delegate_it() {
        let fake = FakeTree::delegated("cpu memory pids");
        fake.leaf(&["cgroup.procs", "io.max"]);
        let err = fake
            .setup(&["--leaf", "payload", "--write", "io.max=8:0 rbps=1"])
            .unwrap_err();
        assert!(
            matches!(&err, LaunchError::Cgroup(CgroupError::NotDelegated { controllers, .. }) if controllers == &["io"])
        );
        let controllers = fake.path(&format!("{UNIT}/cgroup.controllers"));
        assert_eq!(
            err.to_string(),
            format!(
                "io controller not delegated to user@1000.service (missing from {}): sudo mkdir \
                 -p /etc/systemd/system/user@.service.d && printf \
                 '[Service]\\nDelegate=cpu io memory pids\\n' | sudo tee \
                 /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl \
                 daemon-reload, then log out and in again (or: sudo systemctl restart \
                 user@1000.service)",
                controllers.display()
            )
        );
        assert_eq!(fake.read(&format!("{UNIT}/cgroup.subtree_control")), "");
        assert_eq!(fake.read(&leaf_file("io.max")), "");
    }

    #[test]
    fn writes_go_into_the_leaf_in_order_and_line_by_line() {
        let fake = FakeTree::delegated("cpu io memory rdma");
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
        let fake = FakeTree::delegated("hugetlb memory pids");
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

        let fake = FakeTree::delegated("hugetlb memory pids");
        fake.leaf(&["cgroup.procs", "memory.max", "pids.max"]);
        let skipped = fake
            .setup(&[&args[..], &["--best-effort"]].concat())
            .unwrap();
        assert_eq!(skipped.len(), 1);
        assert!(matches!(
            &skipped[0],
            CgroupError::Write {
                errno: Errno::NOENT,
                ..
            }
        ));
        assert_eq!(fake.read(&leaf_file("memory.max")), "1");
        assert_eq!(fake.read(&leaf_file("pids.max")), "10");
    }

    #[test]
    fn best_effort_does_not_excuse_a_missing_controller() {
        let fake = FakeTree::delegated("memory");
        fake.leaf(&["cgroup.procs"]);
        let err = fake.setup(&[
            "--leaf",
            "payload",
            "--best-effort",
            "--write",
            "io.weight=100",
        ]);
        assert!(matches!(
            err,
            Err(LaunchError::Cgroup(CgroupError::NotDelegated { .. }))
        ));
    }

    #[test]
    fn refuses_to_follow_a_symlinked_file() {
        let fake = FakeTree::delegated("memory");
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
        let fake = FakeTree::delegated("memory");
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
        let fake = FakeTree::delegated("memory");
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
                LaunchSpec::parse(args.iter().map(std::string::ToString::to_string)).is_err(),
                "{name}"
            );
        }
        assert!(!fake.path(&format!("{UNIT}/payload")).exists());
    }

    #[test]
    fn cgroup_work_needs_a_leaf() {
        let fake = FakeTree::delegated("memory");
        let err = fake.setup(&["--write", "memory.max=1"]).unwrap_err();
        assert!(matches!(err, LaunchError::Usage(_)), "{err}");
        assert_eq!(fake.read(&format!("{UNIT}/memory.max")), "max");
    }
}
