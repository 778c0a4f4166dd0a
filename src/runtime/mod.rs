//! Container mode: which OCI runtime runs the bundle as a container inside the unit.
//!
//! ociunit owns every cgroup and the runtime owns namespaces, root file system and mounts, so
//! the choice of runtime decides the cgroup layout ([`Kind::supervisor_leaf`]) and a few adjustments of
//! the runtime's config ([`config`]); everything else in the plan stays as in host mode.

pub mod config;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Serialize;

use crate::bundle::Bundle;
use crate::error::Error;

/// The runtimes ociunit knows how to drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Crun,
    Runc,
}

impl Kind {
    /// In the order `--runtime auto` looks for them: crun is in both Debian releases and is
    /// the only one with a cgroup manager that does nothing.
    const ALL: [Kind; 2] = [Kind::Crun, Kind::Runc];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Crun => "crun",
            Kind::Runc => "runc",
        }
    }

    /// Where Debian installs it, for compiling without looking (`--runtime-version`).
    fn debian_path(self) -> &'static str {
        match self {
            Kind::Crun => "/usr/bin/crun",
            Kind::Runc => "/usr/sbin/runc",
        }
    }

    /// Where the runtime itself runs, relative to the delegated unit cgroup. crun's `disabled`
    /// cgroup manager leaves the container in crun's own cgroup, so both share the payload leaf.
    /// runc always creates or joins the container's cgroup itself and, from 1.2 on, refuses a
    /// cgroup that already has a process in it, so runc runs in a leaf of its own and the
    /// container gets the empty, prepared payload leaf beside it.
    pub fn supervisor_leaf(self) -> Option<&'static str> {
        match self {
            Kind::Crun => None,
            Kind::Runc => Some("supervisor"),
        }
    }

    fn from_program(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_str()?;
        Kind::ALL.into_iter().find(|k| name.starts_with(k.name()))
    }
}

/// A runtime as the unit will run it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Runtime {
    pub kind: Kind,
    pub path: PathBuf,
    /// As the runtime prints it (`1.21`, `1.1.5+ds1`), or as `--runtime-version` gave it;
    /// `None` when `run` did not ask, because nothing it gives the runtime depends on it
    /// ([`version_matters`]): asking is a process of its own, on the start path.
    pub version: Option<String>,
}

impl Runtime {
    /// crun before 1.14.2 refuses any `ociVersion` without "1.0" in it (`unknown version
    /// specified`), so 1.1.0 passes by accident and 1.2.0 fails (crun commits 4532a388, 0860c0ff).
    /// A version not asked for counts as old.
    pub fn refuses_oci_version(&self, oci_version: &str) -> bool {
        version_matters(self.kind, oci_version)
            && self
                .version
                .as_deref()
                .is_none_or(|version| version_below(version, (1, 14, 2)))
    }

    /// The version for reports, which always asked for it.
    pub fn version_shown(&self) -> &str {
        self.version.as_deref().unwrap_or("(version not asked)")
    }
}

/// Whether the runtime's version changes the config ociunit derives for a bundle with this
/// `ociVersion` ([`Runtime::refuses_oci_version`]).
pub fn version_matters(kind: Kind, oci_version: &str) -> bool {
    kind == Kind::Crun && !oci_version.contains("1.0")
}

/// What `--runtime` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// A container when the bundle has a root file system, with the first runtime found.
    Auto,
    /// Host mode: `process.args` runs on the host, in the unit.
    None,
    Kind(Kind),
    /// An absolute path to crun or runc (told apart by the file name).
    Path(PathBuf),
}

impl Choice {
    pub fn parse(text: &str) -> Result<Choice, String> {
        match text {
            "auto" => Ok(Choice::Auto),
            "none" => Ok(Choice::None),
            _ => {
                if let Some(kind) = Kind::ALL.into_iter().find(|k| k.name() == text) {
                    return Ok(Choice::Kind(kind));
                }
                let path = PathBuf::from(text);
                if !path.is_absolute() {
                    return Err(format!(
                        "{text:?}: expected auto, none, crun, runc or an absolute path"
                    ));
                }
                if Kind::from_program(&path).is_none() {
                    return Err(format!(
                        "{text}: cannot tell whether this is crun or runc from its name; \
                         ociunit drives those two"
                    ));
                }
                Ok(Choice::Path(path))
            }
        }
    }
}

/// How the bundle will run, and why, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Mode {
    Host { why: String },
    Container { runtime: Runtime, why: String },
}

impl Mode {
    pub fn runtime(&self) -> Option<&Runtime> {
        match self {
            Mode::Host { .. } => None,
            Mode::Container { runtime, .. } => Some(runtime),
        }
    }
}

/// Decides the mode. `version` (`--runtime-version`) skips running the runtime to ask, so a unit
/// can be compiled for another machine, or deterministically for a snapshot.
pub fn resolve(bundle: &Bundle, choice: &Choice, version: Option<&str>) -> Result<Mode, Error> {
    resolve_with(bundle, choice, || locate(choice, version))
}

/// [`resolve`] for `run`, which asks the runtime for its version only when the config it
/// derives depends on it: a transient unit records no version.
pub fn resolve_for_run(
    bundle: &Bundle,
    choice: &Choice,
    version: Option<&str>,
) -> Result<Mode, Error> {
    let oci_version = bundle.spec.version();
    resolve_with(bundle, choice, || {
        locate_asking(choice, version, |kind| version_matters(kind, oci_version))
    })
}

/// [`resolve`] with the runtime [`locate`] finds for `choice`, asked for only when the bundle
/// runs as a container. It depends on the host alone, so a generator locates it once for all
/// its bundles rather than searching `PATH` and running `--version` for each.
pub fn resolve_with(
    bundle: &Bundle,
    choice: &Choice,
    runtime: impl FnOnce() -> Result<Option<Runtime>, Error>,
) -> Result<Mode, Error> {
    let rootfs = root_fs(bundle);
    let why = match choice {
        Choice::None => {
            return Ok(Mode::Host {
                why: "--runtime none: process.args runs on the host, in the unit".into(),
            });
        }
        Choice::Auto => match &rootfs {
            RootFs::Populated(dir) => {
                let Some(runtime) = runtime()? else {
                    return Err(Error::Usage(format!(
                        "{}: root.path {} is a root file system, so the bundle runs as a \
                         container, but neither crun nor runc is installed: apt install crun \
                         (or runc), or give --runtime none to run process.args on the host",
                        bundle.config.display(),
                        dir.display()
                    )));
                };
                let why = format!(
                    "root.path {} is a non-empty directory, and {} was the first runtime found",
                    dir.display(),
                    runtime.kind.name()
                );
                return Ok(Mode::Container { runtime, why });
            }
            other => {
                return Ok(Mode::Host {
                    why: format!(
                        "{}: process.args runs on the host, in the unit",
                        other.describe()
                    ),
                });
            }
        },
        Choice::Kind(kind) => format!("--runtime {}", kind.name()),
        Choice::Path(path) => format!("--runtime {}", path.display()),
    };
    if let RootFs::Missing(_) | RootFs::Empty(_) | RootFs::Unset = rootfs {
        return Err(Error::Usage(format!(
            "{}: {why} runs a container, but {}",
            bundle.config.display(),
            rootfs.describe()
        )));
    }
    // `locate` finds a named runtime or says why it cannot.
    let runtime = runtime()?.ok_or_else(|| Error::Program {
        program: why.clone(),
        why: "no such runtime".into(),
    })?;
    Ok(Mode::Container { runtime, why })
}

/// The runtime `choice` names on this host, with its version; `None` for `none`, and for `auto`
/// when neither runtime is installed.
pub fn locate(choice: &Choice, version: Option<&str>) -> Result<Option<Runtime>, Error> {
    locate_asking(choice, version, |_| true)
}

/// [`locate`], running `--version` only when `ask` says the version is needed.
fn locate_asking(
    choice: &Choice,
    version: Option<&str>,
    ask: impl FnOnce(Kind) -> bool,
) -> Result<Option<Runtime>, Error> {
    let (kind, path) = match choice {
        Choice::None => return Ok(None),
        Choice::Auto => {
            let found = Kind::ALL
                .into_iter()
                .find_map(|k| find_in_path(k.name()).map(|p| (k, p)));
            match found {
                Some(found) => found,
                None => return Ok(None),
            }
        }
        Choice::Kind(kind) => {
            // With a version given, the unit is for another machine (or a snapshot): the path
            // must not depend on this one.
            let path = match version {
                Some(_) => Some(PathBuf::from(kind.debian_path())),
                None => find_in_path(kind.name()),
            };
            let path = path.ok_or_else(|| {
                Error::Usage(format!(
                    "--runtime {0}: {0} is not installed (apt install {0}); with \
                     --runtime-version, ociunit compiles for {1} without looking",
                    kind.name(),
                    kind.debian_path()
                ))
            })?;
            (*kind, path)
        }
        Choice::Path(path) => (
            Kind::from_program(path).expect("checked by Choice::parse"),
            path.clone(),
        ),
    };
    let version = match version {
        Some(version) => Some(version.to_owned()),
        None if ask(kind) => Some(ask_version(kind, &path)?),
        None => None,
    };
    Ok(Some(Runtime {
        kind,
        path,
        version,
    }))
}

/// `crun --version` prints `crun version 1.21`, `runc --version` prints `runc version 1.1.15`,
/// each on the first line.
fn ask_version(kind: Kind, path: &Path) -> Result<String, Error> {
    let output = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|err| Error::Program {
            program: path.display().to_string(),
            why: format!("cannot run it with --version: {err}"),
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_version(kind, &text).ok_or_else(|| Error::Program {
        program: path.display().to_string(),
        why: format!(
            "--version printed no \"{} version X\" line (exit status {}); give \
                 --runtime-version",
            kind.name(),
            output.status
        ),
    })
}

fn parse_version(kind: Kind, text: &str) -> Option<String> {
    let rest = text.lines().next()?.strip_prefix(kind.name())?;
    let version = rest.trim().strip_prefix("version")?.trim();
    (!version.is_empty() && !version.contains(char::is_whitespace)).then(|| version.to_owned())
}

/// `a.b.c` (with any suffix) below `min`; an unreadable version counts as old, which only ever
/// makes ociunit adjust more.
fn version_below(version: &str, min: (u64, u64, u64)) -> bool {
    let release = version.split(['+', '-', '~']).next().unwrap_or_default();
    let mut parts = release.split('.').map(|p| p.parse::<u64>().ok());
    let mut next = || parts.next().flatten();
    match (next(), next()) {
        (Some(major), Some(minor)) => (major, minor, next().unwrap_or(0)) < min,
        _ => true,
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The bundle's root file system, as `--runtime auto` sees it.
enum RootFs {
    Unset,
    /// `/`: the host's own root, as bundles meant to run on the host say.
    Host,
    Missing(PathBuf),
    Empty(PathBuf),
    Populated(PathBuf),
}

impl RootFs {
    fn describe(&self) -> String {
        match self {
            RootFs::Unset => "the bundle has no root.path".into(),
            RootFs::Host => "root.path is the host's own /".into(),
            RootFs::Missing(dir) => format!("root.path {} is not a directory", dir.display()),
            RootFs::Empty(dir) => format!("root.path {} is empty", dir.display()),
            RootFs::Populated(dir) => format!("root.path {} is a root file system", dir.display()),
        }
    }
}

fn root_fs(bundle: &Bundle) -> RootFs {
    let Some(root) = bundle.spec.root().as_ref() else {
        return RootFs::Unset;
    };
    let dir = config::absolute_root(&bundle.dir, root.path());
    if is_host_root(&dir) {
        return RootFs::Host;
    }
    match is_empty(&dir) {
        Err(_) => RootFs::Missing(dir),
        Ok(true) => RootFs::Empty(dir),
        Ok(false) => RootFs::Populated(dir),
    }
}

/// Whether the directory has no entries (one it cannot read has some). rustix's reader rather
/// than `fs::read_dir`, which allocates 32 KiB for every bundle a generator reads.
fn is_empty(dir: &Path) -> rustix::io::Result<bool> {
    use rustix::fs::{Dir, Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    for entry in Dir::new(rustix::fs::open(dir, flags, Mode::empty())?)? {
        if !entry.is_ok_and(|e| matches!(e.file_name().to_bytes(), b"." | b"..")) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `dir` resolves to `/`. Only the root's own inode can, so the inodes are compared
/// first: resolving the path costs a `readlink` per component, for every bundle a generator
/// reads (and the root's inode is looked up once).
fn is_host_root(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    static ROOT: OnceLock<Option<(u64, u64)>> = OnceLock::new();
    let inode = |path: &Path| std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    let root = *ROOT.get_or_init(|| inode(Path::new("/")));
    root.is_some_and(|root| inode(dir) == Some(root))
        && std::fs::canonicalize(dir).is_ok_and(|dir| dir == Path::new("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_the_runtimes_print_them() {
        let crun = "crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\n";
        assert_eq!(parse_version(Kind::Crun, crun).as_deref(), Some("1.8.1"));
        let runc = "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\n";
        assert_eq!(
            parse_version(Kind::Runc, runc).as_deref(),
            Some("1.1.5+ds1")
        );
        assert_eq!(parse_version(Kind::Runc, crun), None);
        assert_eq!(parse_version(Kind::Crun, ""), None);
    }

    #[test]
    fn old_crun_refuses_new_oci_versions() {
        let crun = |version: Option<&str>| Runtime {
            kind: Kind::Crun,
            path: "/usr/bin/crun".into(),
            version: version.map(str::to_owned),
        };
        let refuses = |version| crun(version).refuses_oci_version("1.2.0");
        assert!(refuses(Some("1.8.1")));
        assert!(refuses(Some("1.14.1")));
        assert!(!refuses(Some("1.14.2")));
        assert!(!refuses(Some("1.21")));
        assert!(refuses(Some("garbage")));
        assert!(refuses(None));
        assert!(!crun(Some("1.8.1")).refuses_oci_version("1.0.2-dev"));
        assert!(!crun(None).refuses_oci_version("1.0.0"));
        let runc = Runtime {
            kind: Kind::Runc,
            ..crun(None)
        };
        assert!(!runc.refuses_oci_version("1.2.0"));
    }

    #[test]
    fn run_asks_for_the_version_only_when_it_matters() {
        let choice = Choice::Path("/nonexistent/crun".into());
        let not_asked = locate_asking(&choice, None, |kind| version_matters(kind, "1.0.2"));
        assert!(
            matches!(not_asked, Ok(Some(Runtime { version: None, .. }))),
            "{not_asked:?}"
        );
        let asked = locate_asking(&choice, None, |kind| version_matters(kind, "1.2.0"));
        assert!(asked.is_err(), "{asked:?}");
        assert!(!version_matters(Kind::Runc, "1.2.0"));
    }

    #[test]
    fn choices() {
        assert_eq!(Choice::parse("auto"), Ok(Choice::Auto));
        assert_eq!(Choice::parse("runc"), Ok(Choice::Kind(Kind::Runc)));
        assert_eq!(
            Choice::parse("/opt/crun-1.21/bin/crun"),
            Ok(Choice::Path("/opt/crun-1.21/bin/crun".into()))
        );
        assert!(Choice::parse("bin/crun").is_err());
        assert!(Choice::parse("/usr/bin/youki").is_err());
    }
}
