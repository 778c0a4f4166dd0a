//! `annotations["org.systemd.property.NAME"]`: runc and crun pass these to systemd as unit
//! properties, so bundles written for them set limits this way. ociunit accepts the properties
//! `ociunit run -p` accepts (`property::assign`), with their value in systemd's syntax or in the
//! GVariant text those runtimes read; anything else is refused, because a limit the bundle asks
//! for must not silently go missing. Other annotations are metadata for the runtime.
//!
//! The value forms, per property:
//! * systemd syntax, as `-p` takes it (`512M`, `infinity`, `50%`, `0-3`, `idle`, `100`);
//! * a GVariant string, `'…'` or `"…"`, holding systemd syntax (`'0-3'`);
//! * `uint64 N`, the D-Bus value, for the properties systemd reads as `t`: the byte and task
//!   limits (18446744073709551615 is infinity), `CPUWeight` (0 is idle) and `IOWeight`;
//! * `CPUQuotaPerSecUSec` (CPUQuota='s D-Bus name) takes `uint64 N` µs of CPU time per second.
//!
//! GVariant's other types (`int32 N`, `true`, `['a']`, a bare number read as `int32`) are not
//! what systemd reads for these properties, so runc and crun fail on them; a bare number is
//! read in systemd syntax instead, where it means the same thing. The one other form that works
//! with runc, a byte array for `AllowedCPUs` (`[byte 0x0f]`), is refused: the list says the same.
//!
//! Translated after `linux.resources`: where an annotation and a bundle field set the same
//! property, the field wins, as in both runtimes (runc starts the unit with the annotations and
//! then sets the resources, crun sends the resources after the annotations; both then write the
//! resources into the cgroup). Two annotations for one property are refused: runc reads them
//! from a Go map, in no fixed order.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Translation;
use crate::bundle::member;
use crate::plan::property::{self, Kind, Refusal};
use crate::plan::{Destination, Mapping};

const PREFIX: &str = "org.systemd.property.";

/// CPUQuota='s name on D-Bus, in µs per second, as runc and crun users write it.
const QUOTA_PER_SEC: &str = "CPUQuotaPerSecUSec";

/// What every value refusal reminds of.
const FORMS: &str = "an annotation takes systemd syntax, quoted or not, or uint64 N";

pub fn translate(annotations: &HashMap<String, String>, t: &mut Translation) {
    let mut entries: Vec<_> = annotations.iter().collect();
    entries.sort();
    let systemd = t.target.systemd;
    let bundle_fields = t.mappings.len();
    let mut others = Map::new();
    for (key, value) in entries {
        let Some(name) = key.strip_prefix(PREFIX) else {
            others.insert(key.clone(), Value::from(value.as_str()));
            continue;
        };
        let (destination, conversion) = match read(name, value, systemd) {
            Ok(read) => read,
            Err(why) => (Destination::invalid(why), None),
        };
        let destination = match &destination {
            Destination::Property { property, .. } => match setter(&t.mappings, property.key) {
                Some((index, earlier)) if index < bundle_fields => Destination::ignored(format!(
                    "{} sets {} too, and the bundle's own field wins, as in runc and crun",
                    earlier.path, property.key
                )),
                Some((_, earlier)) => Destination::invalid(format!(
                    "{} sets {} too: give one of them (runc applies them in no fixed order)",
                    earlier.path, property.key
                )),
                None => destination,
            },
            _ => destination,
        };
        let mapping = t.field(member("annotations", key), value);
        mapping.conversion = conversion;
        mapping.to(destination);
    }
    if !others.is_empty() {
        t.field("annotations", others).to(Destination::ignored(
            "metadata for the runtime; nothing to apply",
        ));
    }
}

/// The first mapping, and its index, that sets property `key`.
fn setter<'a>(mappings: &'a [Mapping], key: &str) -> Option<(usize, &'a Mapping)> {
    mappings.iter().enumerate().find(|(_, mapping)| {
        mapping
            .destinations
            .iter()
            .any(|d| matches!(d, Destination::Property { property, .. } if property.key == key))
    })
}

/// The destination of one `org.systemd.property.NAME` annotation, and how its value was read.
fn read(name: &str, value: &str, systemd: u32) -> Result<(Destination, Option<String>), String> {
    let unknown = || {
        format!(
            "{name:?} is not a property ociunit can set; supported: {}, {QUOTA_PER_SEC}",
            property::settable_keys().join(", ")
        )
    };
    let spec = property::by_key(name).filter(|spec| spec.settable());
    if name != QUOTA_PER_SEC && spec.is_none() {
        return Err(unknown());
    }
    let kind = spec.map(|spec| spec.kind);
    let (key, text, conversion) = if name == QUOTA_PER_SEC {
        let per_sec = uint64(value)
            .ok_or_else(|| format!("{value:?}: expected uint64 N, in µs per second"))?;
        match per_sec {
            0 => return Err("uint64 0 is rejected by systemd (a quota must be above 0)".into()),
            u64::MAX => {
                return Ok((
                    Destination::ignored("infinity: no quota, the default"),
                    None,
                ));
            }
            _ => {}
        }
        let per_sec = per_sec.div_ceil(100).saturating_mul(100);
        (
            "CPUQuota",
            format!("{}.{:02}%", per_sec / 10_000, per_sec % 10_000 / 100),
            Some(
                "CPUQuota = CPUQuotaPerSecUSec / 10⁴ %, rounded up to 0.01 % (1 % before systemd 257)"
                    .to_owned(),
            ),
        )
    } else if let Some(text) = gvariant_string(value) {
        let text = text.ok_or_else(|| {
            format!("{value:?}: a quoted value with a backslash or quote inside is not supported")
        })?;
        (
            name,
            text.to_owned(),
            Some("a GVariant string, read in systemd syntax".to_owned()),
        )
    } else if let Some(number) = uint64(value) {
        let text = match (kind, number) {
            (Some(Kind::CpuWeight), 0) => "idle".to_owned(),
            (Some(Kind::CpuQuota), _) => {
                return Err(format!(
                    "{value:?}: CPUQuota takes a percentage such as '50%'; uint64 N µs per second \
                     goes in {PREFIX}{QUOTA_PER_SEC}"
                ));
            }
            (Some(Kind::CpuSet), _) => {
                return Err(format!("{value:?}: {name} takes a list such as '0-3'"));
            }
            (Some(Kind::Bool), _) => {
                return Err(format!("{value:?}: {name} takes true or false"));
            }
            (Some(Kind::Bytes { .. } | Kind::Tasks), u64::MAX) => "infinity".to_owned(),
            _ => number.to_string(),
        };
        let conversion = match kind {
            Some(Kind::CpuWeight) => "uint64: the D-Bus value (0 is idle)",
            _ => "uint64: the D-Bus value (18446744073709551615 is infinity)",
        };
        (name, text, Some(conversion.to_owned()))
    } else {
        (name, value.to_owned(), None)
    };
    match property::assign(key, &text, systemd) {
        Ok(destination) => Ok((destination, conversion)),
        Err(Refusal::UnknownKey) => Err(unknown()),
        Err(Refusal::Value(why)) => Err(format!("{value:?}: {why} ({FORMS})")),
    }
}

/// GVariant's `uint64 N`.
fn uint64(value: &str) -> Option<u64> {
    value.strip_prefix("uint64 ")?.trim_start().parse().ok()
}

/// The text of a GVariant string, `'…'` or `"…"`; `Some(None)` if it has escapes or quotes
/// inside, which no value of these properties needs.
#[allow(
    clippy::option_option,
    reason = "None: not a string; Some(None): one with escapes"
)]
fn gvariant_string(value: &str) -> Option<Option<&str>> {
    let quote = value.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = value.get(1..)?.strip_suffix(quote)?;
    Some((!inner.contains(['\\', '\'', '"'])).then_some(inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::property::DbusValue;

    /// The unit-file value and the D-Bus value an annotation becomes.
    fn read_as(name: &str, value: &str, systemd: u32) -> Result<(String, DbusValue), String> {
        match read(name, value, systemd)?.0 {
            Destination::Property { property, .. } => {
                Ok((property.value, property.dbus[0].value.clone()))
            }
            other => Err(format!("{other:?}")),
        }
    }

    fn ok(name: &str, value: &str) -> (String, DbusValue) {
        read_as(name, value, 257).unwrap_or_else(|why| panic!("{name}={value:?}: {why}"))
    }

    #[test]
    fn systemd_syntax_quoted_or_not() {
        let half = ("536870912".to_owned(), DbusValue::U64(536_870_912));
        assert_eq!(ok("MemoryMax", "512M"), half);
        assert_eq!(ok("MemoryMax", "'512M'"), half);
        assert_eq!(ok("MemoryMax", "\"512M\""), half);
        assert_eq!(ok("MemoryMax", "536870912"), half);
        assert_eq!(ok("MemoryHigh", "infinity").0, "infinity");
        assert_eq!(ok("CPUQuota", "'50%'").0, "50%");
        assert_eq!(ok("CPUWeight", "idle"), ("idle".into(), DbusValue::U64(0)));
        assert_eq!(
            ok("AllowedCPUs", "'0-3'"),
            ("0-3".into(), DbusValue::Bytes(vec![15]))
        );
        assert_eq!(
            ok("AllowedMemoryNodes", "0"),
            ("0".into(), DbusValue::Bytes(vec![1]))
        );
    }

    #[test]
    fn uint64_is_the_dbus_value() {
        assert_eq!(
            ok("MemoryMax", "uint64 536870912"),
            ("536870912".into(), DbusValue::U64(536_870_912))
        );
        assert_eq!(
            ok("TasksMax", "uint64 18446744073709551615"),
            ("infinity".into(), DbusValue::U64(u64::MAX))
        );
        assert_eq!(ok("MemoryLow", "uint64 0").0, "0");
        assert_eq!(ok("CPUWeight", "uint64 0").0, "idle");
        assert_eq!(ok("CPUWeight", "uint64 200").0, "200");
        assert_eq!(ok("IOWeight", "uint64 500").0, "500");
        assert_eq!(
            ok("MemoryZSwapWriteback", "false"),
            ("no".into(), DbusValue::Bool(false))
        );
    }

    #[test]
    fn quota_per_second() {
        assert_eq!(
            ok("CPUQuotaPerSecUSec", "uint64 500000"),
            ("50%".into(), DbusValue::U64(500_000))
        );
        assert_eq!(ok("CPUQuotaPerSecUSec", "uint64 123401").0, "12.35%");
        assert_eq!(
            read_as("CPUQuotaPerSecUSec", "uint64 123401", 252).unwrap(),
            ("13%".into(), DbusValue::U64(130_000))
        );
        assert!(matches!(
            read("CPUQuotaPerSecUSec", "uint64 18446744073709551615", 257),
            Ok((Destination::Ignored { .. }, None))
        ));
    }

    #[test]
    fn refused() {
        for (name, value, word) in [
            ("TimeoutStopUSec", "uint64 123456789", "not a property"),
            ("", "1", "not a property"),
            ("Nice", "'\\'", "not a property"),
            ("MemoryMax", "0", "at least 1"),
            ("MemoryMax", "uint64 0", "at least 1"),
            ("MemoryMax", "int32 5", "uint64 N"),
            ("MemoryMax", "true", "a size"),
            ("MemoryMax", "'512M", "a size"),
            ("MemoryMax", "'5\\'12M'", "backslash"),
            ("MemoryMax", "uint64 -1", "a size"),
            ("CPUWeight", "uint64 18446744073709551615", "1..10000"),
            ("CPUQuota", "uint64 500000", "CPUQuotaPerSecUSec"),
            ("CPUQuota", "50", "percentage"),
            ("CPUQuotaPerSecUSec", "500000", "uint64 N"),
            ("CPUQuotaPerSecUSec", "uint64 0", "rejected"),
            ("AllowedCPUs", "uint64 15", "'0-3'"),
            ("AllowedCPUs", "[byte 0x0f]", "not an index"),
            ("AllowedCPUs", "'0,\n1'", "control character"),
            ("CPUQuota", "50%;", "percentage"),
            ("MemoryMax", "%n", "a size"),
            ("MemoryZSwapWriteback", "uint64 0", "true or false"),
            ("MemoryZSwapWriteback", "'maybe'", "yes or no"),
        ] {
            match read(name, value, 257) {
                Err(why) => assert!(why.contains(word), "{name}={value:?}: {why}"),
                Ok(read) => panic!("{name}={value:?} accepted: {read:?}"),
            }
        }
    }
}
