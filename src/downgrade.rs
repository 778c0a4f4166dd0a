//! Stage 3: fit the plan to the target systemd (podlet's `Downgrade`, for systemd versions).
//!
//! A property the target is too old for goes to the launcher when a cgroup file expresses the
//! same limit, and is dropped with the reason otherwise. The version table is the `since` of
//! each property in `plan::property`.

use crate::plan::{Destination, Plan};

pub fn downgrade(plan: &mut Plan) {
    let systemd = plan.target.systemd;
    for mapping in &mut plan.mappings {
        for destination in &mut mapping.destinations {
            let Destination::Property { property, leaf } = destination else {
                continue;
            };
            if property.since <= systemd {
                continue;
            }
            let why = format!(
                "systemd {systemd} predates {}={} (new in {})",
                property.key, property.value, property.since
            );
            *destination = match leaf.take() {
                Some(write) => Destination::Launcher {
                    write,
                    why: format!("{why}: the launcher writes the cgroup file instead"),
                },
                None => Destination::dropped(why),
            };
        }
    }
}
