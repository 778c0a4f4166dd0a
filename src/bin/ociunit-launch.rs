//! `ociunit-launch`: finishes a unit's cgroup setup inside the cgroup systemd delegated to it, then
//! executes the payload in its place. The arguments are specified in `ociunit::launch::grammar`.
//!
//! On failure it prints one line, `ociunit-launch: …`, on stderr and exits 125 (setup failed or
//! usage error), 126 (payload not executable) or 127 (payload not found).
//!
//! Test hook: if `OCIUNIT_LAUNCH_CGROUP_ROOT` is set, its value is a directory that stands for
//! the launcher's own cgroup (the delegated cgroup), in place of what `/proc/self/cgroup` and
//! `/proc/self/mountinfo` say. Tests use it to run this binary over a fake cgroup tree on any
//! host; a unit never sets it, and the payload does not inherit it.

use std::convert::Infallible;
use std::io::Write;

use ociunit::cgroupfs::Mount;
use ociunit::launch::error::LaunchError;
use ociunit::launch::grammar::{Invocation, LaunchSpec, USAGE};

const CGROUP_ROOT_HOOK: &str = "OCIUNIT_LAUNCH_CGROUP_ROOT";

fn main() {
    let Err(error) = launch();
    eprintln!("ociunit-launch: {error}");
    std::process::exit(error.exit_code());
}

fn launch() -> Result<Infallible, LaunchError> {
    // The hook is for this launcher only: the payload must not inherit it.
    let cgroup_root = std::env::var_os(CGROUP_ROOT_HOOK);
    // SAFETY: the launcher has a single thread, so nothing reads the environment meanwhile.
    unsafe { std::env::remove_var(CGROUP_ROOT_HOOK) };
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| {
            arg.into_string()
                .map_err(|arg| LaunchError::Usage(format!("argument {arg:?} is not valid UTF-8")))
        })
        .collect::<Result<Vec<String>, LaunchError>>()?;
    let spec = match LaunchSpec::parse(args).map_err(|e| LaunchError::Usage(e.0))? {
        Invocation::Launch(spec) => *spec,
        Invocation::Help => exit_printing(&format!("usage: {USAGE}")),
        Invocation::Version => {
            exit_printing(&format!("ociunit-launch {}\n", env!("CARGO_PKG_VERSION")))
        }
    };
    ociunit::launch::run(&spec, || match cgroup_root {
        Some(dir) => Ok(Mount {
            point: dir.into(),
            root: "/".to_owned(),
            own: String::new(),
        }),
        None => Mount::discover(),
    })
}

/// Prints `text` and exits 0 (even if stdout is closed: there is nobody left to tell).
fn exit_printing(text: &str) -> ! {
    let _ = std::io::stdout().write_all(text.as_bytes());
    std::process::exit(0);
}
