//! `linux.resources.pids` → `TasksMax=`.

use oci_spec::runtime::LinuxPids;

use super::Translation;
use crate::plan::Destination;
use crate::plan::property::{TASKS_MAX, Value};
use crate::plan::value::Limit;

/// What 0 becomes, and why. (crun reads 0 as unset, which would allow every fork the bundle
/// forbids; runtime-spec's config-linux.md says 0 is a limit since 2025.)
const ZERO: &str = "0 → 1, as in runc ≥ 1.4: runtime-spec makes 0 a limit, systemd refuses \
     TasksMax=0, and with the payload already in the cgroup 1 likewise allows no new task";

pub fn translate(pids: LinuxPids, t: &mut Translation) {
    let limit = pids.limit();
    let systemd = t.target.systemd;
    let mapping = t.field("linux.resources.pids.limit", limit);
    match Limit::from_oci(limit) {
        Ok(Limit::Finite(0)) => mapping
            .via(ZERO)
            .to(TASKS_MAX.set(Value::Limit(Limit::Finite(1)), systemd)),
        Ok(limit) => mapping.to(TASKS_MAX.set(Value::Limit(limit), systemd)),
        Err(why) => mapping.to(Destination::invalid(why)),
    };
}
