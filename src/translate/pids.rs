//! `linux.resources.pids` → `TasksMax=`.

use oci_spec::runtime::LinuxPids;

use super::memory::limit_property;
use super::{Translation, oci_limit};
use crate::plan::Destination;
use crate::plan::property::TASKS_MAX;

/// What 0 becomes, and why. (crun reads 0 as unset, which would allow every fork the bundle
/// forbids; runtime-spec's config-linux.md says 0 is a limit since 2025.)
const ZERO: &str = "0 → 1, as in runc ≥ 1.4: runtime-spec makes 0 a limit, systemd refuses \
     TasksMax=0, and with the payload already in the cgroup 1 likewise allows no new task";

pub fn translate(pids: &LinuxPids, t: &mut Translation) {
    let limit = pids.limit();
    let mapping = t.field("linux.resources.pids.limit", limit);
    match oci_limit(limit) {
        Ok(Some(0)) => mapping
            .via(ZERO)
            .to(limit_property(&TASKS_MAX, "pids.max", Some(1))),
        Ok(limit) => mapping.to(limit_property(&TASKS_MAX, "pids.max", limit)),
        Err(why) => mapping.to(Destination::invalid(why)),
    };
}
