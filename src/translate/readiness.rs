//! Readiness, only when the bundle asks for it (`org.ociunit.notify: "true"`): `Type=notify`
//! with `NotifyAccess=main`. In container mode the runtime is the main process and relays the
//! container's `READY=1` (crun sends only that; runc adds its own `MAINPID=`), so the unit is
//! started once the payload says it is ready rather than once the runtime runs.

use serde_json::Value;

use super::Translation;
use crate::plan::Destination;
use crate::plan::property::{DbusValue, NOTIFY_ACCESS};

pub const ANNOTATION: &str = "org.ociunit.notify";

pub fn translate(raw: &Value, container: bool, t: &mut Translation) {
    let Some(value) = raw.get("annotations").and_then(|a| a.get(ANNOTATION)) else {
        return;
    };
    let mapping = t.field(crate::bundle::member("annotations", ANNOTATION), value);
    match value.as_str() {
        Some("false") => mapping.to(Destination::ignored("false asks for nothing")),
        Some("true") if container => mapping.to(Destination::property(
            &NOTIFY_ACCESS,
            "main",
            DbusValue::Str("main".into()),
        )),
        Some("true") => mapping.to(Destination::dropped(
            "readiness needs container mode: on the host the launcher gives the payload exactly \
             process.env, without systemd's NOTIFY_SOCKET",
        )),
        _ => mapping.to(Destination::invalid("expected \"true\" or \"false\"")),
    };
}
