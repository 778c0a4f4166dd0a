//! The process half of the launcher: the settings of the OCI `process` object, then execve(2),
//! so that the payload replaces the launcher and becomes the unit's main process.

use std::convert::Infallible;
use std::ffi::{CStr, CString, OsString, c_char, c_int};
use std::io::Write;
use std::os::unix::ffi::OsStringExt;

use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::process::Signal;
use rustix::thread::CapabilitySet;

use super::error::{LaunchError, is_not_found};
use super::grammar::{LaunchSpec, Rlimit};
use crate::plan::rlimit::Resource;

/// The PATH to search when the payload's environment has none: the one systemd gives services.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// std's `Command::exec` goes through execvp(3), which runs a file that fails with ENOEXEC through
// /bin/sh; systemd never would, so the launcher calls execve(2) itself. Both symbols come from
// the C library std already links.
unsafe extern "C" {
    fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char)
    -> c_int;
    fn signal(signum: c_int, handler: usize) -> usize;
}

const SIG_DFL: usize = 0;

/// Applies the process settings of `spec` and executes its command; returns only on failure.
///
/// The rlimits come late: they bind the launcher too, and a low RLIMIT_NOFILE or RLIMIT_AS must
/// not make its own last steps fail. But not last: raising a hard limit needs CAP_SYS_RESOURCE,
/// so they are set while the launcher still has the capabilities it was started with, before the
/// capability bounding set and no_new_privs change anything about them.
pub fn exec(spec: &LaunchSpec) -> Result<Infallible, LaunchError> {
    if let Some(adj) = spec.oom_score_adj {
        set_oom_score_adj(adj)?;
    }
    if let Some(mask) = spec.umask {
        rustix::process::umask(Mode::from_raw_mode(mask));
    }
    if let Some(dir) = &spec.cwd {
        rustix::process::chdir(dir.as_str()).map_err(|errno| LaunchError::Sys {
            what: format!("cannot change directory to {dir:?} (--cwd)"),
            errno,
            fix: None,
        })?;
    }
    let env = environment(spec.clear_env, std::env::vars_os(), &spec.env);
    for rlimit in &spec.rlimits {
        set_rlimit(rlimit)?;
    }
    if let Some(keep) = spec.capability_bounding_set {
        limit_capabilities(keep)?;
    }
    if spec.no_new_privs {
        rustix::thread::set_no_new_privs(true).map_err(|errno| LaunchError::Sys {
            what: "cannot set PR_SET_NO_NEW_PRIVS (--no-new-privs)".to_owned(),
            errno,
            fix: None,
        })?;
    }
    Err(execute(&spec.command, env))
}

/// What systemd's `CapabilityBoundingSet=` does, for a scope: drops every capability outside
/// `keep` from the bounding set and from the inheritable set (which also lowers the ambient set).
/// A root payload's permitted set after execve(2) is its inheritable set plus its bounding set,
/// so both must shrink; the launcher's own permitted set stays, and is recomputed by the exec.
fn limit_capabilities(keep: u64) -> Result<(), LaunchError> {
    let sys = |what: String| {
        move |errno| LaunchError::Sys {
            what,
            errno,
            fix: (errno == Errno::PERM).then(|| "dropping capabilities needs CAP_SETPCAP".into()),
        }
    };
    for number in 0..u64::BITS {
        let cap = CapabilitySet::from_bits_retain(1 << number);
        if keep & cap.bits() != 0 {
            continue;
        }
        match rustix::thread::capability_is_in_bounding_set(cap) {
            Ok(false) => {}
            // Past the kernel's last capability.
            Err(Errno::INVAL) => break,
            Ok(true) => rustix::thread::remove_capability_from_bounding_set(cap).map_err(sys(
                format!("cannot drop capability {number} from the bounding set (--capability-bounding-set)"),
            ))?,
            Err(errno) => return Err(sys("cannot read the bounding set".into())(errno)),
        }
    }
    let what =
        || "cannot clear the inheritable capabilities (--capability-bounding-set)".to_owned();
    let mut sets = rustix::thread::capabilities(None).map_err(sys(what()))?;
    sets.inheritable &= CapabilitySet::from_bits_retain(keep);
    rustix::thread::set_capabilities(None, sets).map_err(sys(what()))
}

fn set_rlimit(rlimit: &Rlimit) -> Result<(), LaunchError> {
    let limit = rustix::process::Rlimit {
        current: rlimit.soft,
        maximum: rlimit.hard,
    };
    rustix::process::setrlimit(rlimit.resource.rustix(), limit).map_err(|errno| LaunchError::Sys {
        what: format!("cannot set RLIMIT_{rlimit} (--rlimit)"),
        errno,
        fix: match errno {
            Errno::PERM => Some(permission_fix(rlimit, nr_open())),
            Errno::INVAL => Some("the soft limit exceeds the hard limit".to_owned()),
            _ => None,
        },
    })
}

/// The kernel's ceiling for RLIMIT_NOFILE, `fs.nr_open`.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Why setrlimit(2) said EPERM. A NOFILE hard limit above `fs.nr_open` (infinity included) is
/// refused even to root, so a missing capability is the cause only below it.
fn permission_fix(rlimit: &Rlimit, nr_open: Option<u64>) -> String {
    match nr_open {
        Some(max)
            if rlimit.resource == Resource::Nofile && rlimit.hard.is_none_or(|hard| hard > max) =>
        {
            format!(
                "the hard limit is above fs.nr_open ({max}), which the kernel refuses even to \
                 root: lower it, or raise fs.nr_open (sysctl -w fs.nr_open=N)"
            )
        }
        _ => "raising a hard limit needs CAP_SYS_RESOURCE".to_owned(),
    }
}

fn set_oom_score_adj(adj: i32) -> Result<(), LaunchError> {
    let path = "/proc/self/oom_score_adj";
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_all(adj.to_string().as_bytes()))
        .map_err(|e| {
            let errno = Errno::from_io_error(&e).unwrap_or(Errno::IO);
            LaunchError::Sys {
                what: format!("cannot write \"{adj}\" to {path} (--oom-score-adj)"),
                errno,
                fix: matches!(errno, Errno::ACCESS | Errno::PERM)
                    .then(|| "lowering it needs CAP_SYS_RESOURCE".to_owned()),
            }
        })
}

/// The payload's environment as `NAME=VALUE` entries: the inherited one unless `clear`, then
/// `extra`, each replacing an entry of the same name in place (the last one wins, as in runc).
fn environment(
    clear: bool,
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    extra: &[String],
) -> Vec<Vec<u8>> {
    let mut env: Vec<Vec<u8>> = Vec::new();
    if !clear {
        env.extend(inherited.into_iter().map(|(name, value)| {
            let mut entry = name.into_vec();
            entry.push(b'=');
            entry.extend(value.into_vec());
            entry
        }));
    }
    for var in extra {
        let name = var
            .split_once('=')
            .map_or(var.as_str(), |(name, _)| name)
            .as_bytes();
        let same_name =
            |entry: &&mut Vec<u8>| entry.starts_with(name) && entry.get(name.len()) == Some(&b'=');
        match env.iter_mut().find(same_name) {
            Some(entry) => *entry = var.clone().into_bytes(),
            None => env.push(var.clone().into_bytes()),
        }
    }
    env
}

/// The directories to look for a bare program name in, from the payload's own PATH.
fn search_path(env: &[Vec<u8>]) -> Vec<u8> {
    env.iter()
        .find_map(|entry| entry.strip_prefix(b"PATH="))
        .map_or_else(|| DEFAULT_PATH.as_bytes().to_vec(), <[u8]>::to_vec)
}

/// Executes `command` with `env`, searching PATH like execvp(3) for a name without '/': a
/// directory where the file is missing is skipped, one where it is not executable is remembered
/// (so that the failure says "not executable" rather than "not found"), anything else stops the
/// search. Empty PATH entries are skipped rather than meaning the working directory.
fn execute(command: &[String], env: Vec<Vec<u8>>) -> LaunchError {
    let Some(program) = command.first() else {
        return LaunchError::Usage("no program to execute".to_owned());
    };
    let search = search_path(&env);
    let nul = |what: &str| LaunchError::Usage(format!("{what} contains a NUL byte"));
    let Ok(args) = command
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return nul("an argument");
    };
    let Ok(vars) = env
        .into_iter()
        .map(CString::new)
        .collect::<Result<Vec<_>, _>>()
    else {
        return nul("an environment variable");
    };
    let (argv, envp) = (null_terminated(&args), null_terminated(&vars));
    let exec_error = |errno, searched| LaunchError::Exec {
        program: program.clone(),
        errno,
        searched,
    };
    restore_sigpipe();

    if program.is_empty() || program.contains('/') {
        return exec_error(execve_errno(&args[0], &argv, &envp), None);
    }
    let mut denied = None;
    for dir in search.split(|b| *b == b':').filter(|dir| !dir.is_empty()) {
        let mut candidate = dir.to_vec();
        candidate.push(b'/');
        candidate.extend_from_slice(program.as_bytes());
        let Ok(candidate) = CString::new(candidate) else {
            continue;
        };
        match execve_errno(&candidate, &argv, &envp) {
            errno if is_not_found(errno) => {}
            Errno::ACCESS => denied = Some(Errno::ACCESS),
            errno => return exec_error(errno, None),
        }
    }
    let searched = Some(String::from_utf8_lossy(&search).into_owned());
    exec_error(denied.unwrap_or(Errno::NOENT), searched)
}

fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain([std::ptr::null()])
        .collect()
}

/// Calls execve(2), which returns only on failure, and returns its errno.
fn execve_errno(path: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
    // SAFETY: `path` is NUL-terminated; `argv` and `envp` are null-terminated arrays of pointers
    // to NUL-terminated strings owned by the caller, alive for the whole call.
    unsafe { execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO)
}

/// Rust's runtime ignores SIGPIPE, and an ignored signal stays ignored across execve(2): left so,
/// the payload and every pipeline it runs would never die of a closed pipe.
fn restore_sigpipe() {
    // SAFETY: installs the default disposition, no handler; the launcher has a single thread.
    unsafe { signal(Signal::PIPE.as_raw(), SIG_DFL) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(env: &[Vec<u8>]) -> Vec<&str> {
        env.iter()
            .map(|e| std::str::from_utf8(e).unwrap())
            .collect()
    }

    fn inherited() -> Vec<(OsString, OsString)> {
        vec![
            ("HOME".into(), "/root".into()),
            ("PATH".into(), "/bin".into()),
            ("X".into(), "".into()),
        ]
    }

    #[test]
    fn clear_env_keeps_exactly_the_given_variables() {
        let extra = [
            "A=1".to_owned(),
            "B=x=y".to_owned(),
            "A=2".to_owned(),
            "E=".to_owned(),
        ];
        let env = environment(true, inherited(), &extra);
        assert_eq!(strings(&env), ["A=2", "B=x=y", "E="]);
    }

    #[test]
    fn env_without_clear_inherits_and_overrides_in_place() {
        let extra = [
            "PATH=/opt/bin".to_owned(),
            "NEW=1".to_owned(),
            "XY=2".to_owned(),
        ];
        let env = environment(false, inherited(), &extra);
        assert_eq!(
            strings(&env),
            ["HOME=/root", "PATH=/opt/bin", "X=", "NEW=1", "XY=2"]
        );
    }

    #[test]
    fn path_comes_from_the_payload_environment() {
        assert_eq!(search_path(&environment(false, inherited(), &[])), b"/bin");
        assert_eq!(
            search_path(&environment(true, inherited(), &[])),
            DEFAULT_PATH.as_bytes()
        );
    }

    #[test]
    fn an_eperm_on_nofile_tells_fs_nr_open_from_a_missing_capability() {
        let nofile = |hard| Rlimit {
            resource: Resource::Nofile,
            soft: Some(1024),
            hard,
        };
        let above = permission_fix(&nofile(Some(2_000_000)), Some(1_048_576));
        assert!(above.contains("above fs.nr_open (1048576)"), "{above}");
        let infinity = permission_fix(&nofile(None), Some(1_048_576));
        assert!(infinity.contains("fs.nr_open"), "{infinity}");
        let below = permission_fix(&nofile(Some(1_048_576)), Some(1_048_576));
        assert!(below.contains("CAP_SYS_RESOURCE"), "{below}");
        let nproc = Rlimit {
            resource: Resource::Nproc,
            ..nofile(None)
        };
        assert!(permission_fix(&nproc, Some(1)).contains("CAP_SYS_RESOURCE"));
        assert!(permission_fix(&nofile(None), None).contains("CAP_SYS_RESOURCE"));
    }

    #[test]
    fn a_failed_exec_says_whether_the_program_is_missing_or_not_executable() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        let path = format!("PATH={}", dir.path().display()).into_bytes();

        let missing = execute(&["no-such-program-here".into()], vec![path.clone()]);
        assert_eq!(missing.exit_code(), 127, "{missing}");
        assert!(
            missing.to_string().contains("not found in PATH="),
            "{missing}"
        );
        let absolute = execute(&[dir.path().join("absent").display().to_string()], vec![]);
        assert_eq!(absolute.exit_code(), 127, "{absolute}");
        let denied = execute(&["plain".into()], vec![path]);
        assert_eq!(denied.exit_code(), 126, "{denied}");
        assert!(
            denied.to_string().contains("EACCES (Permission denied)"),
            "{denied}"
        );
        assert_eq!(execute(&[String::new()], vec![]).exit_code(), 127);
    }
}
