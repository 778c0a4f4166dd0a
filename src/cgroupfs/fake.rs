//! A directory standing for a host's files in tests: the cgroup tree the launcher and `apply`
//! work on, or the procfs and cgroup files doctor reads.

use std::fs;
use std::path::{Path, PathBuf};

use super::Mount;

/// The delegated cgroup of [`FakeTree::delegated`]: a unit below a user manager.
pub const UNIT: &str = "user.slice/user-1000.slice/user@1000.service/app.slice/web.service";

/// An empty root in a temporary directory, removed with it.
pub struct FakeTree {
    dir: tempfile::TempDir,
}

impl Default for FakeTree {
    fn default() -> FakeTree {
        FakeTree {
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

impl FakeTree {
    /// A cgroup tree laid out as the kernel would after systemd delegated [`UNIT`] with the
    /// controllers `available`.
    pub fn delegated(available: &str) -> FakeTree {
        let fake = FakeTree::default();
        fake.files(
            UNIT,
            &[
                ("cgroup.controllers", available),
                ("cgroup.subtree_control", ""),
                ("cgroup.procs", ""),
                ("memory.max", "max"),
            ],
        );
        fake
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `path` below the fake root; a leading `/` is the root's own.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root().join(path.trim_start_matches('/'))
    }

    /// Writes the file `path`, creating the directories above it.
    pub fn write(&self, path: &str, text: &str) {
        let path = self.path(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    pub fn files(&self, dir: &str, files: &[(&str, &str)]) {
        fs::create_dir_all(self.path(dir)).unwrap();
        for (name, text) in files {
            self.write(&format!("{dir}/{name}"), text);
        }
    }

    /// The leaf as it looks once the kernel populated it (a restarted unit finds it so).
    pub fn leaf(&self, files: &[&str]) {
        let empty: Vec<(&str, &str)> = files.iter().map(|f| (*f, "")).collect();
        self.files(&leaf_file(""), &empty);
    }

    pub fn read(&self, path: &str) -> String {
        fs::read_to_string(self.path(path)).unwrap()
    }

    /// The fake root as a cgroup2 mount showing the whole hierarchy, with this process in `own`.
    pub fn mount(&self, own: &str) -> Mount {
        Mount {
            point: self.root().to_owned(),
            root: "/".to_owned(),
            own: own.to_owned(),
        }
    }
}

/// `file` in the leaf `payload` of [`UNIT`].
pub fn leaf_file(file: &str) -> String {
    format!("{UNIT}/payload/{file}")
}
