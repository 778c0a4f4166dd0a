//! `linux.resources.cpu` → `CPUWeight=`, `CPUQuota=`, `CPUQuotaPeriodSec=`, `AllowedCPUs=`,
//! `AllowedMemoryNodes=`; `burst` goes to the launcher.

use oci_spec::runtime::LinuxCpu;

use super::Translation;
use crate::error::shown;
use crate::plan::Destination;
use crate::plan::property::{
    ALLOWED_CPUS, ALLOWED_MEMORY_NODES, CPU_QUOTA, CPU_QUOTA_PERIOD, CPU_WEIGHT, CPU_WEIGHT_IDLE,
    DbusProperty, DbusValue, Property, PropertySpec,
};

const BASE: &str = "linux.resources.cpu";
/// The kernel's (and systemd's) default `cpu.max` period.
pub const DEFAULT_PERIOD: u64 = 100_000;
/// systemd 257 stores `CPUQuota=` with two decimals (systemd#33171); before, a daemon-reload
/// re-read it as a whole percentage, so we round up to 1 % there, like runc and crun.
const FINE_QUOTA_SINCE: u32 = 257;

/// cgroup v1's largest `cpu.shares`; the conversion maps it to the largest weight, 10000.
const MAX_SHARES: u64 = 262_144;

pub const SHARES_CONVERSION: &str = "cpu.weight = ⌈10^((L² + 125·L)/612 − 7/34)⌉, L = log2(shares) \
     (crun ≥ 1.23, runc ≥ 1.3.2, youki ≥ 0.5.7)";

pub fn translate(cpu: &LinuxCpu, t: &mut Translation) {
    let idle = cpu.idle() == Some(1);
    if let Some(shares) = cpu.shares() {
        let mapping = t.field(format!("{BASE}.shares"), shares);
        if shares == 0 {
            mapping.to(Destination::ignored("0 means unset"));
        } else if idle {
            mapping.to(Destination::ignored(
                "cpu.idle=1 is set, which makes the weight irrelevant",
            ));
        } else if shares > MAX_SHARES {
            mapping
                .via(format!(
                    "{SHARES_CONVERSION}; {shares} is above cgroup v1's largest share count, \
                     {MAX_SHARES}, so it is clamped to weight 10000, as in runc, crun and youki"
                ))
                .to(weight(shares_to_weight(shares)));
        } else {
            mapping
                .via(SHARES_CONVERSION)
                .to(weight(shares_to_weight(shares)));
        }
    }
    quota_and_period(cpu, t);
    if let Some(burst) = cpu.burst() {
        let mapping = t.field(format!("{BASE}.burst"), burst);
        if burst == 0 {
            mapping.to(Destination::ignored("0 is the default"));
        } else {
            mapping.to(Destination::launcher(
                "cpu.max.burst",
                burst.to_string(),
                "systemd has no property for cpu.max.burst",
            ));
        }
    }
    for (name, value, spec, file) in [
        ("cpus", cpu.cpus(), &ALLOWED_CPUS, "cpuset.cpus"),
        ("mems", cpu.mems(), &ALLOWED_MEMORY_NODES, "cpuset.mems"),
    ] {
        if let Some(list) = value {
            let mapping = t.field(format!("{BASE}.{name}"), list);
            mapping.to(cpuset_property(spec, file, list));
        }
    }
    if let Some(value) = cpu.idle() {
        let mapping = t.field(format!("{BASE}.idle"), value);
        match value {
            0 => mapping.to(Destination::ignored("0 is the default")),
            1 => mapping.to(idle_property()),
            other => mapping.to(Destination::invalid(format!("{other} is not 0 or 1"))),
        };
    }
    for (name, value) in [
        (
            "realtimeRuntime",
            cpu.realtime_runtime()
                .map(|v| (serde_json::json!(v), v != 0)),
        ),
        (
            "realtimePeriod",
            cpu.realtime_period()
                .map(|v| (serde_json::json!(v), v != 0)),
        ),
    ] {
        if let Some((value, set)) = value {
            t.field(format!("{BASE}.{name}"), value).to(if set {
                Destination::dropped("cgroup v2 has no real-time bandwidth control (v1 only)")
            } else {
                Destination::ignored("0 asks for nothing")
            });
        }
    }
}

/// The log-quadratic mapping the runtimes use today: it passes through 2→1, 1024→100 (the
/// defaults match) and 262144→10000, where the old linear formula sent 1024 to 39.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= MAX_SHARES {
        return 10_000;
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    10f64.powf(exponent).ceil() as u64
}

pub fn weight(value: u64) -> Destination {
    let property = Property::new(&CPU_WEIGHT, value.to_string(), DbusValue::U64(value));
    Destination::mirrored(property, "cpu.weight", value.to_string())
}

pub fn idle_property() -> Destination {
    let property = Property::new(&CPU_WEIGHT_IDLE, "idle", DbusValue::U64(0));
    Destination::mirrored(property, "cpu.idle", "1")
}

fn quota_and_period(cpu: &LinuxCpu, t: &mut Translation) {
    // runc and crun read a period of 0 as the kernel's default, and containerd writes 0 for it.
    let period = cpu.period().filter(|p| *p != 0);
    let period_ok = match period {
        Some(p) if !(1_000..=1_000_000).contains(&p) => {
            t.field(format!("{BASE}.period"), p)
                .to(Destination::invalid(format!(
                    "{p} µs is outside the kernel's range for cpu.max periods, 1000..1000000"
                )));
            false
        }
        _ => true,
    };
    if let Some(quota) = cpu.quota() {
        let systemd = t.target.systemd;
        let mapping = t.field(format!("{BASE}.quota"), quota);
        if quota <= 0 {
            mapping.to(Destination::ignored(
                "no quota (the default), as in runc, crun and youki",
            ));
        } else if period_ok {
            let period = period.unwrap_or(DEFAULT_PERIOD);
            let destination = quota_property(quota.unsigned_abs(), period, systemd);
            mapping
                .via(format!(
                    "CPUQuotaPerSecUSec = quota·10⁶/period, rounded up to {}; the launcher writes \
                     the exact cpu.max",
                    if systemd >= FINE_QUOTA_SINCE {
                        "0.01 %"
                    } else {
                        "1 % (systemd < 257 keeps whole percents)"
                    }
                ))
                .to(destination);
        }
    }
    match cpu.period() {
        Some(0) => {
            t.field(format!("{BASE}.period"), 0)
                .to(Destination::ignored(format!(
                    "0 means the default period, {DEFAULT_PERIOD} µs, as in runc and crun"
                )));
        }
        Some(period) if period_ok => {
            let quota = cpu.quota().filter(|q| *q > 0).map(i64::unsigned_abs);
            t.field(format!("{BASE}.period"), period)
                .to(period_property(quota, period));
        }
        _ => {}
    }
}

/// `cpu.max` as the kernel reads it.
fn cpu_max(quota: Option<u64>, period: u64) -> String {
    match quota {
        Some(quota) => format!("{quota} {period}"),
        None => format!("max {period}"),
    }
}

/// systemd reads `CPUQuota=` as an `int` of hundredths of a percent; this is its largest whole
/// percent, so that a quota valid for one target is valid for all, whatever their rounding.
const MAX_QUOTA_PER_SEC: u64 = i32::MAX as u64 * 100 / 10_000 * 10_000;

pub fn quota_property(quota: u64, period: u64, systemd: u32) -> Destination {
    let step = if systemd >= FINE_QUOTA_SINCE {
        100
    } else {
        10_000
    };
    let exact = quota.saturating_mul(1_000_000).div_ceil(period);
    if exact > MAX_QUOTA_PER_SEC {
        return Destination::invalid(format!(
            "{quota}/{period} is {}% of a CPU, more than systemd's CPUQuota= can hold ({}%)",
            exact / 10_000,
            MAX_QUOTA_PER_SEC / 10_000
        ));
    }
    let per_sec = exact.div_ceil(step) * step;
    let percent = format!("{}.{:02}", per_sec / 10_000, per_sec % 10_000 / 100);
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    let property = Property::with_dbus(
        &CPU_QUOTA,
        format!("{percent}%"),
        vec![DbusProperty::new(
            "CPUQuotaPerSecUSec",
            DbusValue::U64(per_sec),
        )],
    );
    Destination::mirrored(property, "cpu.max", cpu_max(Some(quota), period))
}

pub fn period_property(quota: Option<u64>, period: u64) -> Destination {
    let property = Property::with_dbus(
        &CPU_QUOTA_PERIOD,
        format!("{period}us"),
        vec![DbusProperty::new(
            "CPUQuotaPeriodUSec",
            DbusValue::U64(period),
        )],
    );
    Destination::mirrored(property, "cpu.max", cpu_max(quota, period))
}

/// `AllowedCPUs=`/`AllowedMemoryNodes=` from a cpuset list such as `0-3,6`.
pub fn cpuset_property(spec: &'static PropertySpec, file: &str, list: &str) -> Destination {
    if list.trim().is_empty() {
        return Destination::ignored("empty: no restriction");
    }
    match cpuset_mask(list) {
        Ok(mask) => Destination::mirrored(
            Property::new(spec, list, DbusValue::Bytes(mask)),
            file,
            list,
        ),
        Err(why) => Destination::invalid(why),
    }
}

/// Largest CPU or node index accepted; the kernel's NR_CPUS maximum is 8192.
const MAX_CPU: usize = 8191;

/// The bit mask systemd reads for `AllowedCPUs`: byte i bit j is index 8i+j (little-endian
/// bytes; youki once sent them big-endian, runc#3808 fixed the same bug).
pub fn cpuset_mask(list: &str) -> Result<Vec<u8>, String> {
    let bad = |part: &str| {
        format!(
            "{} in {} is not an index or a range such as 0-3",
            shown(part),
            shown(list)
        )
    };
    let mut mask = Vec::new();
    for part in list.split(',').map(str::trim) {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>(), b.parse::<usize>()),
            None => (part.parse::<usize>(), part.parse::<usize>()),
        };
        let (Ok(first), Ok(last)) = (first, last) else {
            return Err(bad(part));
        };
        if first > last || last > MAX_CPU {
            return Err(bad(part));
        }
        if mask.len() <= last / 8 {
            mask.resize(last / 8 + 1, 0u8);
        }
        for index in first..=last {
            mask[index / 8] |= 1 << (index % 8);
        }
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_test_vectors() {
        let vectors = [
            (2, 1),
            (3, 2),
            (10, 4),
            (100, 17),
            (512, 59),
            (1024, 100),
            (2048, 174),
            (4096, 303),
            (22000, 1204),
            (100000, 4340),
            (260000, 9929),
            (262144, 10000),
        ];
        for (shares, weight) in vectors {
            assert_eq!(shares_to_weight(shares), weight, "shares {shares}");
        }
    }

    #[test]
    fn cpuset_masks_are_little_endian() {
        assert_eq!(cpuset_mask("0,2-4,7,9-10").unwrap(), [157, 6]);
        assert_eq!(cpuset_mask("0").unwrap(), [1]);
        assert_eq!(cpuset_mask("8").unwrap(), [0, 1]);
        assert!(cpuset_mask("3-1").is_err());
        assert!(cpuset_mask("a").is_err());
        assert!(cpuset_mask("1,,2").is_err());
        assert!(cpuset_mask("99999").is_err());
    }

    fn quota(quota: u64, period: u64, systemd: u32) -> (String, u64, String) {
        match quota_property(quota, period, systemd) {
            Destination::Property { property, leaf } => {
                let DbusValue::U64(per_sec) = property.dbus[0].value else {
                    panic!()
                };
                (property.value, per_sec, leaf.unwrap().value)
            }
            _ => panic!(),
        }
    }

    #[test]
    fn quota_rounds_up_to_what_systemd_keeps() {
        assert_eq!(
            quota(12345, 100_000, 252),
            ("13%".into(), 130_000, "12345 100000".into())
        );
        assert_eq!(
            quota(12345, 100_000, 257),
            ("12.35%".into(), 123_500, "12345 100000".into())
        );
        assert_eq!(
            quota(12500, 100_000, 257),
            ("12.5%".into(), 125_000, "12500 100000".into())
        );
        assert_eq!(
            quota(50000, 100_000, 252),
            ("50%".into(), 500_000, "50000 100000".into())
        );
        assert_eq!(
            quota(250_000, 100_000, 252),
            ("250%".into(), 2_500_000, "250000 100000".into())
        );
        assert_eq!(
            quota(1, 1_000_000, 257),
            ("0.01%".into(), 100, "1 1000000".into())
        );
    }
}
