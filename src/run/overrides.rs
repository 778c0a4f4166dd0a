//! `ociunit run -p KEY=VALUE`: systemd-run's property syntax, for the properties the plan knows.
//! Each override becomes one more mapping after the bundle's, so it wins as a later assignment
//! does in a unit file, and `explain`-style reports show where it came from.

use serde_json::json;

use crate::error::Error;
use crate::plan::property::{
    ALLOWED_CPUS, ALLOWED_MEMORY_NODES, DbusValue, IO_WEIGHT, MEMORY_HIGH, MEMORY_LOW, MEMORY_MAX,
    MEMORY_MIN, MEMORY_SWAP_MAX, MEMORY_ZSWAP_MAX, Property, PropertySpec, TASKS_MAX,
};
use crate::plan::{Destination, Mapping};
use crate::translate::{cpu, memory};

const LIMITS: [(&PropertySpec, &str); 7] = [
    (&MEMORY_MAX, "memory.max"),
    (&MEMORY_HIGH, "memory.high"),
    (&MEMORY_LOW, "memory.low"),
    (&MEMORY_MIN, "memory.min"),
    (&MEMORY_SWAP_MAX, "memory.swap.max"),
    (&MEMORY_ZSWAP_MAX, "memory.zswap.max"),
    (&TASKS_MAX, "pids.max"),
];

/// The keys `-p` accepts.
pub const SUPPORTED: &str = "MemoryMax, MemoryHigh, MemoryLow, MemoryMin, MemorySwapMax, \
     MemoryZSwapMax, TasksMax, CPUWeight, CPUQuota, AllowedCPUs, AllowedMemoryNodes, IOWeight";

/// Parses one `KEY=VALUE` into a mapping.
pub fn parse(assignment: &str, systemd: u32) -> Result<Mapping, Error> {
    let (key, value) = assignment
        .split_once('=')
        .ok_or_else(|| Error::Usage(format!("-p {assignment:?}: expected KEY=VALUE")))?;
    let bad = |what: &str| Error::Usage(format!("-p {key}={value}: expected {what}"));
    let destination = if let Some((spec, file)) = LIMITS.iter().find(|(spec, _)| spec.key == key) {
        let limit = bytes(value).ok_or_else(|| bad("a size such as 512M, or infinity"))?;
        if limit == Some(0) && key != "MemoryLow" && key != "MemoryMin" && key != "MemorySwapMax" {
            return Err(bad("a size of at least 1 (systemd rejects 0)"));
        }
        memory::limit_property(spec, file, limit)
    } else {
        match key {
            "CPUWeight" if value == "idle" => cpu::idle_property(),
            "CPUWeight" => match value.parse::<u64>() {
                Ok(weight) if (1..=10_000).contains(&weight) => cpu::weight(weight),
                _ => return Err(bad("a weight in 1..10000, or idle")),
            },
            "CPUQuota" => {
                let per_sec =
                    percent(value).ok_or_else(|| bad("a percentage such as 50% or 12.5%"))?;
                cpu::quota_property(per_sec / 10, cpu::DEFAULT_PERIOD, systemd)
            }
            "AllowedCPUs" => cpu::cpuset_property(&ALLOWED_CPUS, "cpuset.cpus", value),
            "AllowedMemoryNodes" => {
                cpu::cpuset_property(&ALLOWED_MEMORY_NODES, "cpuset.mems", value)
            }
            "IOWeight" => match value.parse::<u64>() {
                Ok(weight) if (1..=10_000).contains(&weight) => Destination::mirrored(
                    Property::new(&IO_WEIGHT, value, DbusValue::U64(weight)),
                    "io.weight",
                    format!("default {weight}"),
                ),
                _ => return Err(bad("a weight in 1..10000")),
            },
            _ => {
                return Err(Error::Usage(format!(
                    "-p {key}: not a property ociunit run can set; supported: {SUPPORTED}"
                )));
            }
        }
    };
    if let Destination::Invalid { why } = &destination {
        return Err(Error::Usage(format!("-p {key}={value}: {why}")));
    }
    Ok(Mapping {
        path: format!("--property {key}"),
        value: json!(value),
        conversion: None,
        destinations: vec![destination],
    })
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

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("Nice=5", 257).is_err());
        assert!(parse("MemoryMax", 257).is_err());
        assert!(parse("MemoryMax=0", 257).is_err());
        assert!(parse("CPUWeight=0", 257).is_err());
        let mapping = parse("MemoryMax=1G", 257).unwrap();
        assert_eq!(mapping.path, "--property MemoryMax");
    }
}
