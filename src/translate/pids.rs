//! `linux.resources.pids` → `TasksMax=`.

use oci_spec::runtime::LinuxPids;

use super::memory::limit_property;
use super::{Translation, oci_limit};
use crate::plan::Destination;
use crate::plan::property::TASKS_MAX;

pub fn translate(pids: &LinuxPids, t: &mut Translation) {
    let limit = pids.limit();
    let mapping = t.field("linux.resources.pids.limit", limit);
    match oci_limit(limit, false) {
        Ok(limit) => mapping.to(limit_property(&TASKS_MAX, "pids.max", limit)),
        Err(why) => mapping.to(Destination::invalid(why)),
    };
}
