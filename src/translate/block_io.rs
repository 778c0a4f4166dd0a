//! `linux.resources.blockIO` → `IOWeight=`, `IODeviceWeight=`, `IO{Read,Write}{Bandwidth,IOPS}Max=`.
//!
//! Devices are named `/dev/block/MAJ:MIN`: systemd parses that form without `stat()`ing it,
//! so a unit compiled on one host names the same device on another.

use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};

use super::{Translation, V1_ONLY};
use crate::plan::Destination;
use crate::plan::property::{
    DbusValue, IO_DEVICE_WEIGHT, IO_READ_BANDWIDTH_MAX, IO_READ_IOPS_MAX, IO_WEIGHT,
    IO_WRITE_BANDWIDTH_MAX, IO_WRITE_IOPS_MAX, Property, PropertySpec, Value,
};
use crate::plan::value::Weight;

const BASE: &str = "linux.resources.blockIO";

pub const WEIGHT_CONVERSION: &str =
    "io.weight = 1 + (weight − 10)·9999/990 (OCI 10..1000 onto 1..10000)";

/// OCI's BFQ-era weight (10..1000) onto cgroup v2's `io.weight` (1..10000), linearly, as the
/// runtimes do when `io.bfq.weight` is absent.
pub fn io_weight(weight: u16) -> Result<Weight, String> {
    let outside = || format!("{weight} is outside the OCI weight range 10..1000");
    if !(10..=1000).contains(&weight) {
        return Err(outside());
    }
    Weight::new(1 + (u64::from(weight) - 10) * 9999 / 990).ok_or_else(outside)
}

/// `MAJ:MIN`, or which of the two is wrong: its field name, its value and why. The kernel's device
/// numbers have 12 bits of major and 20 of minor; systemd refuses `/dev/block/MAJ:MIN` beyond
/// them and then looks the path up on disk, so a bad number would silently not apply.
fn device(major: i64, minor: i64) -> Result<String, (&'static str, i64, String)> {
    let check = |name: &'static str, value: i64, bits: u32| {
        if (0..1 << bits).contains(&value) {
            Ok(value)
        } else {
            Err((
                name,
                value,
                format!(
                    "{value} is not a device {name} number (0..{})",
                    (1_i64 << bits) - 1
                ),
            ))
        }
    };
    let major = check("major", major, 12)?;
    let minor = check("minor", minor, 20)?;
    Ok(format!("{major}:{minor}"))
}

/// v1's leaf weight of 0 is "unset", as in runc.
fn leaf_weight(leaf_weight: u16) -> Destination {
    if leaf_weight == 0 {
        Destination::ignored("0 is unset")
    } else {
        Destination::dropped(V1_ONLY)
    }
}

pub fn translate(io: &LinuxBlockIo, t: &mut Translation) {
    let systemd = t.target.systemd;
    if let Some(weight) = io.weight() {
        let mapping = t.field(format!("{BASE}.weight"), weight);
        match io_weight(weight) {
            Ok(weight) => {
                mapping
                    .via(WEIGHT_CONVERSION)
                    .to(IO_WEIGHT.set(Value::Weight(weight), systemd));
            }
            Err(why) => {
                mapping.to(Destination::invalid(why));
            }
        }
    }
    if let Some(value) = io.leaf_weight() {
        t.field(format!("{BASE}.leafWeight"), value)
            .to(leaf_weight(value));
    }
    for (index, entry) in io.weight_device().iter().flatten().enumerate() {
        let path = format!("{BASE}.weightDevice[{index}]");
        if let Some(weight) = entry.weight() {
            match (device(entry.major(), entry.minor()), io_weight(weight)) {
                (Ok(dev), Ok(io)) => {
                    let value = io.get();
                    let node = format!("/dev/block/{dev}");
                    let property = Property::new(
                        &IO_DEVICE_WEIGHT,
                        format!("{node} {value}"),
                        DbusValue::PathNumbers(vec![(node, value)]),
                    );
                    t.field(format!("{path}.weight"), weight)
                        .via(WEIGHT_CONVERSION)
                        .to(Destination::mirrored(property, format!("{dev} {value}")));
                }
                (Err((name, value, why)), _) => {
                    t.field(format!("{path}.{name}"), value)
                        .to(Destination::invalid(why));
                }
                (_, Err(why)) => {
                    t.field(format!("{path}.weight"), weight)
                        .to(Destination::invalid(why));
                }
            }
        }
        if let Some(value) = entry.leaf_weight() {
            t.field(format!("{path}.leafWeight"), value)
                .to(leaf_weight(value));
        }
    }
    let throttles: [(
        &str,
        &Option<Vec<LinuxThrottleDevice>>,
        &'static PropertySpec,
        &str,
    ); 4] = [
        (
            "throttleReadBpsDevice",
            io.throttle_read_bps_device(),
            &IO_READ_BANDWIDTH_MAX,
            "rbps",
        ),
        (
            "throttleWriteBpsDevice",
            io.throttle_write_bps_device(),
            &IO_WRITE_BANDWIDTH_MAX,
            "wbps",
        ),
        (
            "throttleReadIOPSDevice",
            io.throttle_read_iops_device(),
            &IO_READ_IOPS_MAX,
            "riops",
        ),
        (
            "throttleWriteIOPSDevice",
            io.throttle_write_iops_device(),
            &IO_WRITE_IOPS_MAX,
            "wiops",
        ),
    ];
    for (name, entries, spec, io_max_key) in throttles {
        for (index, entry) in entries.iter().flatten().enumerate() {
            let path = format!("{BASE}.{name}[{index}]");
            let rate = entry.rate();
            match device(entry.major(), entry.minor()) {
                Ok(_) if rate == 0 => {
                    t.field(format!("{path}.rate"), rate)
                        .to(Destination::invalid(
                            "a rate of 0 would stop all I/O on the device",
                        ));
                }
                Ok(dev) => {
                    let node = format!("/dev/block/{dev}");
                    let property = Property::new(
                        spec,
                        format!("{node} {rate}"),
                        DbusValue::PathNumbers(vec![(node, rate)]),
                    );
                    t.field(path, entry).to(Destination::mirrored(
                        property,
                        format!("{dev} {io_max_key}={rate}"),
                    ));
                }
                Err((name, value, why)) => {
                    t.field(format!("{path}.{name}"), value)
                        .to(Destination::invalid(why));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn weight_vectors() {
        for (oci, io) in [(10, 1), (100, 910), (500, 4950), (1000, 10000)] {
            assert_eq!(
                super::io_weight(oci).map(crate::plan::value::Weight::get),
                Ok(io)
            );
        }
        assert!(super::io_weight(9).is_err());
        assert!(super::io_weight(1001).is_err());
    }
}
