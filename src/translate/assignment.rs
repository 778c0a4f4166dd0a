//! One systemd property assignment, `KEY=VALUE` in unit-file syntax, for the properties that can
//! be set beside the bundle's own fields: `ociunit run -p` and the bundle's
//! `org.systemd.property.*` annotations both read theirs here, so the two accept exactly the same
//! keys and values. Each caller words the refusal for its own context.

use crate::plan::Destination;
use crate::plan::property::{
    ALLOWED_CPUS, ALLOWED_MEMORY_NODES, DbusValue, IO_WEIGHT, MEMORY_HIGH, MEMORY_LOW, MEMORY_MAX,
    MEMORY_MIN, MEMORY_SWAP_MAX, MEMORY_ZSWAP_MAX, Property, PropertySpec, TASKS_MAX,
};
use crate::translate::{cpu, memory};

/// The byte and task limits, with the cgroup file each one mirrors into the leaf.
pub const LIMITS: [(&PropertySpec, &str); 7] = [
    (&MEMORY_MAX, "memory.max"),
    (&MEMORY_HIGH, "memory.high"),
    (&MEMORY_LOW, "memory.low"),
    (&MEMORY_MIN, "memory.min"),
    (&MEMORY_SWAP_MAX, "memory.swap.max"),
    (&MEMORY_ZSWAP_MAX, "memory.zswap.max"),
    (&TASKS_MAX, "pids.max"),
];

/// The keys accepted, in the order error messages list them.
pub const KEYS: [&str; 12] = [
    "MemoryMax",
    "MemoryHigh",
    "MemoryLow",
    "MemoryMin",
    "MemorySwapMax",
    "MemoryZSwapMax",
    "TasksMax",
    "CPUWeight",
    "CPUQuota",
    "AllowedCPUs",
    "AllowedMemoryNodes",
    "IOWeight",
];

/// Why an assignment was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of [`KEYS`].
    UnknownKey,
    /// What is wrong with the value, as a phrase (`expected a weight in 1..10000`).
    Value(String),
}

/// Where `KEY=VALUE` goes, `value` in systemd's syntax (what systemd-run's `-p` takes).
pub fn destination(key: &str, value: &str, systemd: u32) -> Result<Destination, Refusal> {
    if !KEYS.contains(&key) {
        return Err(Refusal::UnknownKey);
    }
    let expected = |what: &str| Refusal::Value(format!("expected {what}"));
    // No valid value has one, and a line break would end the unit's line.
    if value.chars().any(char::is_control) {
        return Err(Refusal::Value(format!(
            "a control character, which no {key} value has"
        )));
    }
    let destination = if let Some((spec, file)) = LIMITS.iter().find(|(spec, _)| spec.key == key) {
        let limit = bytes(value).ok_or_else(|| expected("a size such as 512M, or infinity"))?;
        // systemd.resource-control(5): 0 is a valid protection, swap or zswap limit.
        if limit == Some(0) && ["MemoryMax", "MemoryHigh", "TasksMax"].contains(&key) {
            return Err(expected("a size of at least 1 (systemd rejects 0)"));
        }
        memory::limit_property(spec, file, limit)
    } else {
        match key {
            "CPUWeight" if value == "idle" => cpu::idle_property(),
            "CPUWeight" => {
                cpu::weight(weight(value).ok_or_else(|| expected("a weight in 1..10000, or idle"))?)
            }
            "CPUQuota" => {
                let per_sec =
                    percent(value).ok_or_else(|| expected("a percentage such as 50% or 12.5%"))?;
                cpu::quota_property(per_sec / 10, cpu::DEFAULT_PERIOD, systemd)
            }
            "AllowedCPUs" => cpu::cpuset_property(&ALLOWED_CPUS, "cpuset.cpus", value),
            "AllowedMemoryNodes" => {
                cpu::cpuset_property(&ALLOWED_MEMORY_NODES, "cpuset.mems", value)
            }
            // IOWeight, the last of KEYS.
            _ => {
                let weight = weight(value).ok_or_else(|| expected("a weight in 1..10000"))?;
                Destination::mirrored(
                    Property::new(&IO_WEIGHT, weight.to_string(), DbusValue::U64(weight)),
                    "io.weight",
                    format!("default {weight}"),
                )
            }
        }
    };
    match destination {
        Destination::Invalid { why } => Err(Refusal::Value(why)),
        destination => Ok(destination),
    }
}

/// `CPUWeight=`/`IOWeight=`: 1..10000.
fn weight(text: &str) -> Option<u64> {
    text.parse().ok().filter(|w| (1..=10_000).contains(w))
}

/// systemd's size syntax: a number with an optional K, M, G or T (powers of 1024), or infinity.
fn bytes(text: &str) -> Option<Option<u64>> {
    if text == "infinity" {
        return Some(None);
    }
    let (digits, shift) = match text.char_indices().last()? {
        (i, 'K') => (&text[..i], 10),
        (i, 'M') => (&text[..i], 20),
        (i, 'G') => (&text[..i], 30),
        (i, 'T') => (&text[..i], 40),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(1 << shift)
        .map(Some)
}

/// `CPUQuota=` syntax: a percentage with up to two decimals, as µs per second.
fn percent(text: &str) -> Option<u64> {
    let number = text.strip_suffix('%')?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hundredths: u64 = format!("{fraction:0<2}").parse().ok()?;
    let per_sec = whole
        .parse::<u64>()
        .ok()?
        .checked_mul(10_000)?
        .checked_add(hundredths * 100)?;
    (per_sec > 0).then_some(per_sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_percentages() {
        assert_eq!(bytes("512M"), Some(Some(512 << 20)));
        assert_eq!(bytes("1000000000"), Some(Some(1_000_000_000)));
        assert_eq!(bytes("infinity"), Some(None));
        assert_eq!(bytes("12X"), None);
        assert_eq!(percent("50%"), Some(500_000));
        assert_eq!(percent("12.5%"), Some(125_000));
        assert_eq!(percent("0%"), None);
        assert_eq!(percent("1.234%"), None);
    }

    fn property(key: &str, value: &str) -> Property {
        match destination(key, value, 257) {
            Ok(Destination::Property { property, .. }) => property,
            other => panic!("{key}={value}: {other:?}"),
        }
    }

    #[test]
    fn values_are_written_as_ociunit_formats_them() {
        assert_eq!(property("MemoryMax", "1G").value, "1073741824");
        assert_eq!(property("TasksMax", "infinity").value, "infinity");
        assert_eq!(property("CPUQuota", "12.50%").value, "12.5%");
        assert_eq!(property("CPUWeight", "idle").value, "idle");
        assert_eq!(property("IOWeight", "+200").value, "200");
        assert_eq!(property("AllowedCPUs", "0-3").value, "0-3");
    }

    #[test]
    fn refusals() {
        let refused = |key: &str, value: &str| destination(key, value, 257).unwrap_err();
        assert_eq!(refused("Nice", "5"), Refusal::UnknownKey);
        assert_eq!(refused("memorymax", "1G"), Refusal::UnknownKey);
        for (key, value) in [
            ("MemoryMax", "0"),
            ("TasksMax", "0"),
            ("MemoryMax", "1G;"),
            ("CPUWeight", "0"),
            ("IOWeight", "10001"),
            ("CPUQuota", "50"),
            ("AllowedCPUs", "3-1"),
            ("AllowedCPUs", "0,\n1"),
            ("AllowedMemoryNodes", "0\t"),
        ] {
            assert!(
                matches!(refused(key, value), Refusal::Value(_)),
                "{key}={value:?}"
            );
        }
        for key in ["MemoryLow", "MemoryMin", "MemorySwapMax", "MemoryZSwapMax"] {
            assert!(destination(key, "0", 257).is_ok(), "{key}=0");
        }
    }
}
