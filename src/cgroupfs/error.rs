//! Why a cgroup could not be found, opened, set up or written, as one line an operator can act
//! on.
//!
//! Every message names what was being done, the file involved (full path), the errno by name and
//! text, and the most likely fix, because the launcher's operator usually cannot rerun the unit
//! with more logging: the journal line is all they get. `ociunit apply` puts the same line into
//! its report.

use std::fmt;
use std::path::PathBuf;

use rustix::io::Errno;

#[derive(Debug)]
pub enum CgroupError {
    /// A name that could leave the cgroup or take it over, refused before anything is opened.
    Refused(String),
    /// The host cannot give the payload cgroup v2 limits at all.
    Host(String),
    /// Controllers the payload needs are missing from the delegated cgroup's `cgroup.controllers`.
    NotDelegated {
        controllers: Vec<String>,
        controllers_file: PathBuf,
        to: String,
        fix: String,
    },
    /// A system call on a cgroup (or on procfs, to find one) failed.
    Sys {
        what: String,
        errno: Errno,
        fix: Option<String>,
    },
    /// An interface-file write in the leaf failed; the only error `--best-effort` forgives.
    Write {
        path: PathBuf,
        value: String,
        errno: Errno,
    },
}

/// An errno as "ENOENT (No such file or directory)": the name is what people search for, the text
/// is what they understand.
pub struct ErrnoText(pub Errno);

impl fmt::Display for ErrnoText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = self.0.raw_os_error();
        let text = std::io::Error::from_raw_os_error(raw).to_string();
        let text = text
            .rsplit_once(" (os error ")
            .map_or(text.as_str(), |(t, _)| t);
        match errno_name(self.0) {
            Some(name) => write!(f, "{name} ({text})"),
            None => write!(f, "errno {raw} ({text})"),
        }
    }
}

fn errno_name(errno: Errno) -> Option<&'static str> {
    const NAMES: [(Errno, &str); 26] = [
        (Errno::PERM, "EPERM"),
        (Errno::NOENT, "ENOENT"),
        (Errno::SRCH, "ESRCH"),
        (Errno::INTR, "EINTR"),
        (Errno::IO, "EIO"),
        (Errno::NXIO, "ENXIO"),
        (Errno::TOOBIG, "E2BIG"),
        (Errno::NOEXEC, "ENOEXEC"),
        (Errno::BADF, "EBADF"),
        (Errno::AGAIN, "EAGAIN"),
        (Errno::NOMEM, "ENOMEM"),
        (Errno::ACCESS, "EACCES"),
        (Errno::BUSY, "EBUSY"),
        (Errno::EXIST, "EEXIST"),
        (Errno::NODEV, "ENODEV"),
        (Errno::NOTDIR, "ENOTDIR"),
        (Errno::ISDIR, "EISDIR"),
        (Errno::INVAL, "EINVAL"),
        (Errno::MFILE, "EMFILE"),
        (Errno::TXTBSY, "ETXTBSY"),
        (Errno::NOSPC, "ENOSPC"),
        (Errno::ROFS, "EROFS"),
        (Errno::RANGE, "ERANGE"),
        (Errno::NAMETOOLONG, "ENAMETOOLONG"),
        (Errno::LOOP, "ELOOP"),
        (Errno::OPNOTSUPP, "EOPNOTSUPP"),
    ];
    NAMES
        .iter()
        .find(|(e, _)| *e == errno)
        .map(|(_, name)| *name)
}

/// A failed system call as "WHAT: ERRNO (text); FIX", the form every such line takes, the
/// launcher's own included.
pub fn fmt_sys(
    f: &mut fmt::Formatter<'_>,
    what: &str,
    errno: Errno,
    fix: Option<&str>,
) -> fmt::Result {
    write!(f, "{what}: {}", ErrnoText(errno))?;
    match fix {
        Some(fix) => write!(f, "; {fix}"),
        None => Ok(()),
    }
}

/// The likely fix for a failed interface-file write, by errno and file.
fn write_fix(path: &std::path::Path, errno: Errno) -> String {
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    let controller = file.split('.').next().unwrap_or_default();
    match errno {
        Errno::NOENT if file.starts_with("memory.swap.") => {
            "swap accounting is off (kernel without CONFIG_MEMCG_SWAP, or booted with swapaccount=0)"
                .to_owned()
        }
        Errno::NOENT if controller == "hugetlb" => {
            "the kernel has no hugetlb support for that page size (see /sys/kernel/mm/hugepages)"
                .to_owned()
        }
        Errno::NOENT => format!(
            "the {controller} controller is not enabled or not available here, or this kernel has no {file}"
        ),
        Errno::ACCESS | Errno::PERM => {
            format!("the {controller} controller's files are not delegated to this user")
        }
        Errno::INVAL => "the kernel rejected the value".to_owned(),
        Errno::NODEV if controller == "io" => {
            "no such block device (check MAJ:MIN against /sys/dev/block)".to_owned()
        }
        Errno::LOOP => "it is a symlink, which the launcher refuses to follow".to_owned(),
        _ => format!("the kernel refused the write to {file}"),
    }
}

impl fmt::Display for CgroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgroupError::Refused(message) | CgroupError::Host(message) => f.write_str(message),
            CgroupError::NotDelegated {
                controllers,
                controllers_file,
                to,
                fix,
            } => {
                let plural = if controllers.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "{} controller{plural} not delegated to {to} (missing from {}): {fix}",
                    controllers.join(", "),
                    controllers_file.display()
                )
            }
            CgroupError::Sys { what, errno, fix } => fmt_sys(f, what, *errno, fix.as_deref()),
            CgroupError::Write { path, value, errno } => write!(
                f,
                "cannot write {value:?} to {}: {}; {}",
                path.display(),
                ErrnoText(*errno),
                write_fix(path, *errno)
            ),
        }
    }
}

impl std::error::Error for CgroupError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_reads_as_name_and_text() {
        assert_eq!(
            ErrnoText(Errno::ACCESS).to_string(),
            "EACCES (Permission denied)"
        );
        assert_eq!(
            ErrnoText(Errno::NOENT).to_string(),
            "ENOENT (No such file or directory)"
        );
        assert!(
            ErrnoText(Errno::from_raw_os_error(200))
                .to_string()
                .starts_with("errno 200 (")
        );
    }

    #[test]
    fn write_failures_suggest_the_likely_fix() {
        let fix = |file: &str, errno| {
            CgroupError::Write {
                path: PathBuf::from("/cg/payload").join(file),
                value: "1".into(),
                errno,
            }
            .to_string()
        };
        assert!(fix("memory.swap.max", Errno::NOENT).contains("swapaccount=0"));
        assert!(fix("hugetlb.2MB.max", Errno::NOENT).contains("no hugetlb support"));
        assert!(fix("cpu.max.burst", Errno::NOENT).contains("cpu controller is not enabled"));
        assert!(fix("io.max", Errno::ACCESS).contains("not delegated to this user"));
        assert!(fix("memory.max", Errno::INVAL).contains("rejected the value"));
        assert!(fix("io.max", Errno::NODEV).contains("no such block device"));
        assert_eq!(
            fix("memory.max", Errno::PERM),
            "cannot write \"1\" to /cg/payload/memory.max: EPERM (Operation not permitted); \
             the memory controller's files are not delegated to this user"
        );
    }
}
