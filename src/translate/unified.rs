//! `linux.resources.unified`: raw cgroup v2 files. A key systemd has a property for (the
//! property table's leaf files) becomes that property, so `systemctl show` reports it; any
//! other key is written by the launcher.

use std::collections::HashMap;

use super::Translation;
use crate::bundle::member;
use crate::cgroupfs::file::InterfaceFile;
use crate::error::shown;
use crate::plan::Destination;
use crate::plan::property::{self, CPU_QUOTA, CPU_QUOTA_PERIOD, CPU_WEIGHT, Value};
use crate::plan::value::{CpuMax, Limit};

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
        if let (
            "cpu.max",
            Some(
                max @ CpuMax {
                    quota: Limit::Finite(_),
                    ..
                },
            ),
        ) = (key.as_str(), CpuMax::parse_cgroup(value))
        {
            mapping.to(CPU_QUOTA_PERIOD.set(Value::CpuMax(max), systemd));
        }
    }
}

fn destination(file: &str, value: &str, systemd: u32) -> Destination {
    if let Some(spec) = property::for_leaf(file) {
        return match spec.parse_leaf(value) {
            Ok(value) => spec.set(value, systemd),
            Err(why) => Destination::invalid(why),
        };
    }
    match file {
        "cpu.idle" if value == "1" => CPU_WEIGHT.set(Value::Idle, systemd),
        "cpu.max" => match CpuMax::parse_cgroup(value) {
            Some(
                max @ CpuMax {
                    quota: Limit::Finite(_),
                    ..
                },
            ) => CPU_QUOTA.set(Value::CpuMax(max), systemd),
            Some(max) => CPU_QUOTA_PERIOD.set(Value::CpuMax(max), systemd),
            None => Destination::invalid(format!(
                "{} is not \"QUOTA [PERIOD]\" or \"max [PERIOD]\" in µs (period 1000..1000000)",
                shown(value)
            )),
        },
        _ => Destination::launcher(file, value, "systemd has no property for this file"),
    }
}
