//! `linux.resources.unified`: raw cgroup v2 files. A key systemd has a property for becomes that
//! property (so `systemctl show` reports it); any other key is written by the launcher.

use std::collections::HashMap;

use super::{Translation, cpu, memory};
use crate::bundle::member;
use crate::error::shown;
use crate::interface_file::InterfaceFile;
use crate::plan::Destination;
use crate::plan::property::{ALLOWED_CPUS, ALLOWED_MEMORY_NODES, TASKS_MAX};

pub fn translate(unified: &HashMap<String, String>, t: &mut Translation) {
    let mut entries: Vec<_> = unified.iter().collect();
    entries.sort();
    let systemd = t.target.systemd;
    for (key, value) in entries {
        let mapping = t.field(member("linux.resources.unified", key), value);
        let destination = match InterfaceFile::parse(key) {
            Err(why) => {
                let key = shown(key);
                Destination::invalid(format!("{key} is not a cgroup file we may write: {why}"))
            }
            Ok(_) if value.contains('\0') => Destination::invalid("the value contains a NUL byte"),
            Ok(_) if value.is_empty() => {
                Destination::ignored("empty: nothing to write (as in crun)")
            }
            Ok(file) => destination(file.as_str(), value.trim(), systemd),
        };
        mapping.to(destination);
        // "QUOTA PERIOD" sets the period as well as the quota.
        if let ("cpu.max", Some((Some(quota), period))) = (key.as_str(), cpu_max(value)) {
            mapping.to(cpu::period_property(Some(quota), period));
        }
    }
}

fn destination(file: &str, value: &str, systemd: u32) -> Destination {
    let bad = |what: &str| Destination::invalid(format!("{} is not {what}", shown(value)));
    if let Some(spec) = memory::property_for_file(file) {
        return match limit(value) {
            Some(limit) => memory::limit_property(spec, file, limit),
            None => bad("a byte count or \"max\""),
        };
    }
    match file {
        "pids.max" => match limit(value) {
            Some(Some(0)) => Destination::invalid("0 is rejected by systemd (TasksMax=0)"),
            Some(limit) => memory::limit_property(&TASKS_MAX, file, limit),
            None => bad("a task count or \"max\""),
        },
        "cpu.weight" => match value.parse::<u64>() {
            Ok(weight) if (1..=10_000).contains(&weight) => cpu::weight(weight),
            _ => bad("a weight in 1..10000"),
        },
        "cpu.idle" if value == "1" => cpu::idle_property(),
        "cpu.max" => match cpu_max(value) {
            Some((Some(quota), period)) => cpu::quota_property(quota, period, systemd),
            Some((None, period)) => cpu::period_property(None, period),
            None => bad("\"QUOTA [PERIOD]\" or \"max [PERIOD]\" in µs (period 1000..1000000)"),
        },
        "cpuset.cpus" => cpu::cpuset_property(&ALLOWED_CPUS, file, value),
        "cpuset.mems" => cpu::cpuset_property(&ALLOWED_MEMORY_NODES, file, value),
        _ => Destination::launcher(file, value, "systemd has no property for this file"),
    }
}

/// `max` or a number.
fn limit(value: &str) -> Option<Option<u64>> {
    if value == "max" {
        Some(None)
    } else {
        value.parse().ok().map(Some)
    }
}

/// `cpu.max`: "QUOTA PERIOD", "max PERIOD", or either without the period.
fn cpu_max(value: &str) -> Option<(Option<u64>, u64)> {
    let mut words = value.split_whitespace();
    let quota = limit(words.next()?)?;
    let period = match words.next() {
        Some(period) => period.parse().ok()?,
        None => cpu::DEFAULT_PERIOD,
    };
    let valid = words.next().is_none() && (1_000..=1_000_000).contains(&period) && quota != Some(0);
    valid.then_some((quota, period))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_max_forms() {
        assert_eq!(super::cpu_max("50000 100000"), Some((Some(50000), 100000)));
        assert_eq!(super::cpu_max("max 20000"), Some((None, 20000)));
        assert_eq!(super::cpu_max("max"), Some((None, 100000)));
        assert_eq!(super::cpu_max("0 100000"), None);
        assert_eq!(super::cpu_max("1 2 3"), None);
        assert_eq!(super::cpu_max("1 10"), None);
    }
}
