//! `linux.resources.cpu` → `CPUWeight=`, `CPUQuota=`, `CPUQuotaPeriodSec=`, `AllowedCPUs=`,
//! `AllowedMemoryNodes=`; `burst` goes to the launcher.

use oci_spec::runtime::LinuxCpu;

use super::Translation;
use crate::plan::Destination;
use crate::plan::property::{
    ALLOWED_CPUS, ALLOWED_MEMORY_NODES, CPU_QUOTA, CPU_QUOTA_PERIOD, CPU_WEIGHT, Value,
};
use crate::plan::value::{CpuMax, DEFAULT_PERIOD, FINE_QUOTA_SINCE, Limit, Weight};

const BASE: &str = "linux.resources.cpu";

/// cgroup v1's largest `cpu.shares`; the conversion maps it to the largest weight, 10000.
const MAX_SHARES: u64 = 262_144;

pub const SHARES_CONVERSION: &str = "cpu.weight = ⌈10^((L² + 125·L)/612 − 7/34)⌉, L = log2(shares) \
     (crun ≥ 1.23, runc ≥ 1.3.2, youki ≥ 0.5.7)";

pub fn translate(cpu: &LinuxCpu, t: &mut Translation) {
    let systemd = t.target.systemd;
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
                .to(weight(shares_to_weight(shares), systemd));
        } else {
            mapping
                .via(SHARES_CONVERSION)
                .to(weight(shares_to_weight(shares), systemd));
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
    for (name, value, spec) in [
        ("cpus", cpu.cpus(), &ALLOWED_CPUS),
        ("mems", cpu.mems(), &ALLOWED_MEMORY_NODES),
    ] {
        if let Some(list) = value {
            let mapping = t.field(format!("{BASE}.{name}"), list);
            mapping.to(spec.read(list, systemd));
        }
    }
    if let Some(value) = cpu.idle() {
        let mapping = t.field(format!("{BASE}.idle"), value);
        match value {
            0 => mapping.to(Destination::ignored("0 is the default")),
            1 => mapping.to(CPU_WEIGHT.set(Value::Idle, systemd)),
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
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "shares in 3..MAX_SHARES give a weight in 1..=10000"
    )]
    let weight = 10f64.powf(exponent).ceil() as u64;
    weight
}

/// The weight of a share count, which [`shares_to_weight`] keeps in range.
fn weight(value: u64, systemd: u32) -> Destination {
    match Weight::new(value) {
        Some(weight) => CPU_WEIGHT.set(Value::Weight(weight), systemd),
        None => Destination::invalid(format!("{value} is not a weight in 1..10000")),
    }
}

fn quota_and_period(cpu: &LinuxCpu, t: &mut Translation) {
    let systemd = t.target.systemd;
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
        let mapping = t.field(format!("{BASE}.quota"), quota);
        if quota <= 0 {
            mapping.to(Destination::ignored(
                "no quota (the default), as in runc, crun and youki",
            ));
        } else if period_ok {
            let max = CpuMax {
                quota: Limit::Finite(quota.unsigned_abs()),
                period: period.unwrap_or(DEFAULT_PERIOD),
            };
            let destination = CPU_QUOTA.set(Value::CpuMax(max), systemd);
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
            let quota = match cpu.quota() {
                Some(quota) if quota > 0 => Limit::Finite(quota.unsigned_abs()),
                _ => Limit::Infinity,
            };
            let max = CpuMax { quota, period };
            t.field(format!("{BASE}.period"), period)
                .to(CPU_QUOTA_PERIOD.set(Value::CpuMax(max), systemd));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::property::DbusValue;

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

    fn quota(quota: u64, period: u64, systemd: u32) -> (String, u64, String) {
        let max = CpuMax {
            quota: Limit::Finite(quota),
            period,
        };
        match CPU_QUOTA.set(Value::CpuMax(max), systemd) {
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
