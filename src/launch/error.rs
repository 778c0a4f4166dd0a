//! Why the launcher did not start the payload, as the one line an operator reads in the journal:
//! its cgroup work's [`CgroupError`], or a failure of its own worded the same way (what was being
//! done, the errno by name and text, the most likely fix).

use std::fmt;

use rustix::io::Errno;

use super::grammar::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_SETUP_FAILED, USAGE};
use crate::cgroupfs::error::{CgroupError, ErrnoText, fmt_sys};

#[derive(Debug)]
pub enum LaunchError {
    /// The command line does not follow the grammar (the unit was edited by hand, or the compiler
    /// and launcher disagree).
    Usage(String),
    /// The cgroup work failed: the host, the delegation, or a write.
    Cgroup(CgroupError),
    /// A system call on the way to the payload failed.
    Sys {
        what: String,
        errno: Errno,
        fix: Option<String>,
    },
    /// The payload could not be executed; `searched` is the PATH it was looked up in.
    Exec {
        program: String,
        errno: Errno,
        searched: Option<String>,
    },
}

impl LaunchError {
    /// The exit status, following the shell and the OCI runtimes so that a failing unit's status
    /// tells "setup" from "program missing" from "program not executable".
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::Exec { errno, .. } if is_not_found(*errno) => EXIT_NOT_FOUND,
            LaunchError::Exec { .. } => EXIT_NOT_EXECUTABLE,
            _ => EXIT_SETUP_FAILED,
        }
    }
}

/// The errnos by which execve(2) says the program is not there, as opposed to not runnable.
pub(crate) fn is_not_found(errno: Errno) -> bool {
    errno == Errno::NOENT || errno == Errno::NOTDIR
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Usage(message) => {
                let synopsis = USAGE.lines().next().unwrap_or_default();
                write!(f, "{message} (usage: {synopsis}; see --help)")
            }
            LaunchError::Cgroup(err) => err.fmt(f),
            LaunchError::Sys { what, errno, fix } => fmt_sys(f, what, *errno, fix.as_deref()),
            LaunchError::Exec {
                program,
                errno,
                searched,
            } => {
                write!(f, "cannot execute {program:?}: {}", ErrnoText(*errno))?;
                match searched {
                    Some(path) if is_not_found(*errno) => write!(f, "; not found in PATH={path}"),
                    _ => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for LaunchError {}

impl From<CgroupError> for LaunchError {
    fn from(err: CgroupError) -> LaunchError {
        LaunchError::Cgroup(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_tell_setup_from_missing_from_unrunnable() {
        let exec = |errno| LaunchError::Exec {
            program: "x".into(),
            errno,
            searched: None,
        };
        assert_eq!(exec(Errno::NOENT).exit_code(), EXIT_NOT_FOUND);
        assert_eq!(exec(Errno::NOTDIR).exit_code(), EXIT_NOT_FOUND);
        assert_eq!(exec(Errno::ACCESS).exit_code(), EXIT_NOT_EXECUTABLE);
        assert_eq!(exec(Errno::NOEXEC).exit_code(), EXIT_NOT_EXECUTABLE);
        assert_eq!(
            LaunchError::Usage("x".into()).exit_code(),
            EXIT_SETUP_FAILED
        );
    }
}
