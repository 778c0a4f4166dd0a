//! Stage 3: fit the plan to the target systemd (podlet's `Downgrade`, for systemd versions).
//!
//! A property the target is too old for goes to the launcher when a cgroup file expresses the
//! same limit, and is dropped with the reason otherwise. The version table is the `since` of
//! each property in `plan::property`. `ociunit run` uses the same step when a manager refuses a
//! property its version should know (a distribution without a backport).

use crate::plan::{Destination, Plan};

pub fn downgrade(plan: &mut Plan) {
    let systemd = plan.target.systemd;
    demote(plan, |property| {
        (property.since > systemd).then(|| {
            format!(
                "systemd {systemd} predates {}={} (new in {})",
                property.key, property.value, property.since
            )
        })
    });
}

/// Demotes every property sent on the bus as `dbus_name`; false if there was none.
pub fn refuse(plan: &mut Plan, dbus_name: &str) -> bool {
    demote(plan, |property| {
        property
            .dbus
            .iter()
            .any(|p| p.name == dbus_name)
            .then(|| format!("this systemd refused {dbus_name}"))
    })
}

/// Replaces each property `why` has a reason against by its launcher write, or drops it.
fn demote(
    plan: &mut Plan,
    why: impl Fn(&crate::plan::property::Property) -> Option<String>,
) -> bool {
    let mut demoted = false;
    for destination in plan
        .mappings
        .iter_mut()
        .flat_map(|m| m.destinations.iter_mut())
    {
        let Destination::Property { property, leaf } = destination else {
            continue;
        };
        let Some(why) = why(property) else { continue };
        demoted = true;
        *destination = match leaf.take() {
            Some(write) => Destination::Launcher {
                write,
                why: format!("{why}: the launcher writes the cgroup file instead"),
            },
            None => Destination::dropped(why),
        };
    }
    demoted
}
