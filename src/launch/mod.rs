//! The in-unit launcher, `ociunit-launch`.
//!
//! systemd cannot express every cgroup v2 limit, and a unit under a user manager gets no help
//! from systemd inside its delegated subtree. The unit's `ExecStart=` therefore runs the launcher,
//! which finishes the job inside the cgroup systemd delegated to it and then executes the payload
//! in its place, so that the payload is the unit's main process. It obeys its arguments
//! ([`grammar`]) and nothing else: it never reads the bundle.

pub mod cgroup;
pub mod error;
pub mod grammar;
pub mod host;
pub mod manual;
pub mod process;

use std::convert::Infallible;

use error::LaunchError;
use grammar::LaunchSpec;
use host::Host;

/// Does everything `spec` asks and becomes the payload; returns only on failure.
///
/// `find_host` is called only when there is cgroup work, so that a launcher with none runs on
/// any host, cgroup v1 included.
pub fn run(
    spec: &LaunchSpec,
    find_host: impl FnOnce() -> Result<Host, LaunchError>,
) -> Result<Infallible, LaunchError> {
    if spec.touches_cgroups() {
        for skipped in cgroup::setup(spec, &find_host()?)? {
            eprintln!("ociunit-launch: warning: {skipped} (continuing: --best-effort)");
        }
    }
    process::exec(spec)
}
