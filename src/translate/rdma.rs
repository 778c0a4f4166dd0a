//! `linux.resources.rdma` → launcher writes to `rdma.max`; systemd has no RDMA property.

use std::collections::HashMap;
use std::fmt::Write;

use oci_spec::runtime::LinuxRdma;

use super::Translation;
use crate::bundle::member;
use crate::error::shown;
use crate::plan::Destination;

pub fn translate(rdma: &HashMap<String, LinuxRdma>, t: &mut Translation) {
    let mut devices: Vec<_> = rdma.iter().collect();
    devices.sort_by(|a, b| a.0.cmp(b.0));
    for (device, limits) in devices {
        let mapping = t.field(member("linux.resources.rdma", device), limits);
        if device.is_empty() || device.chars().any(|c| c.is_whitespace() || c.is_control()) {
            mapping.to(Destination::invalid(format!(
                "{} is not an RDMA device name",
                shown(device)
            )));
            continue;
        }
        let mut line = device.clone();
        if let Some(handles) = limits.hca_handles() {
            let _ = write!(line, " hca_handle={handles}");
        }
        if let Some(objects) = limits.hca_objects() {
            let _ = write!(line, " hca_object={objects}");
        }
        if line == *device {
            mapping.to(Destination::ignored("no limit given"));
        } else {
            mapping.to(Destination::launcher(
                "rdma.max",
                line,
                "systemd has no RDMA property",
            ));
        }
    }
}
