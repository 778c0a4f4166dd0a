//! The image's stop signal (`org.opencontainers.image.stopSignal`, which `podman` and `docker`
//! honour) → `KillSignal=`: the signal `systemctl stop` sends, to the payload on the host, to
//! the runtime (which forwards it to the container) in container mode.

use serde_json::Value;

use super::Translation;
use crate::plan::Destination;
use crate::plan::property::{DbusValue, KILL_SIGNAL};

pub const ANNOTATION: &str = "org.opencontainers.image.stopSignal";

/// The signals by their Linux numbers (the same on x86, arm and most architectures).
const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

pub fn translate(raw: &Value, t: &mut Translation) {
    let Some(value) = raw.get("annotations").and_then(|a| a.get(ANNOTATION)) else {
        return;
    };
    let path = crate::bundle::member("annotations", ANNOTATION);
    let mapping = t.field(path, value);
    match value.as_str().and_then(signal) {
        Some((name, number)) => mapping.to(Destination::property(
            &KILL_SIGNAL,
            format!("SIG{name}"),
            DbusValue::I32(number),
        )),
        None => mapping.to(Destination::invalid(
            "not a signal: expected a name such as SIGTERM or TERM, or a number 1..31",
        )),
    };
}

/// `SIGTERM`, `TERM` or `15`, as the image spec allows.
fn signal(text: &str) -> Option<(&'static str, i32)> {
    let name = text.strip_prefix("SIG").unwrap_or(text);
    let index = match name.parse::<usize>() {
        Ok(number) => number.checked_sub(1)?,
        Err(_) => SIGNALS.iter().position(|s| *s == name)?,
    };
    let name = SIGNALS.get(index)?;
    Some((name, i32::try_from(index).ok()? + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(signal("SIGTERM"), Some(("TERM", 15)));
        assert_eq!(signal("QUIT"), Some(("QUIT", 3)));
        assert_eq!(signal("9"), Some(("KILL", 9)));
        assert_eq!(signal("SIGRTMIN"), None);
        assert_eq!(signal("0"), None);
        assert_eq!(signal("32"), None);
        assert_eq!(signal("sigterm"), None);
    }
}
