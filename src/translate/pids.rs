//! `linux.resources.pids` → `TasksMax=`.

use oci_spec::runtime::LinuxPids;

use super::memory::limit_property;
use super::{Translation, oci_limit};
use crate::plan::Destination;
use crate::plan::property::TASKS_MAX;

/// runtime-spec says 0 is a real limit, not "unset" (config-linux.md, since 1.3); systemd
/// refuses `TasksMax=0`. With the payload already in the cgroup, 1 forbids exactly what 0
/// does, every new task, so 0 becomes 1 as in runc 1.4 (crun reads 0 as unset, which would
/// grant what the bundle denies).
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
