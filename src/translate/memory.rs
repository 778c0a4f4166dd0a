//! `linux.resources.memory` → `MemoryMax=`, `MemoryLow=`, `MemorySwapMax=`.

use oci_spec::runtime::LinuxMemory;

use super::{Translation, V1_ONLY};
use crate::plan::Destination;
use crate::plan::property::{MEMORY_LOW, MEMORY_MAX, MEMORY_SWAP_MAX, Value};
use crate::plan::value::Limit;

const BASE: &str = "linux.resources.memory";

/// containerd and the kubelet write `limit: 0` for "no limit"; runc and youki read it so.
/// (crun writes `memory.max` 0, which leaves the payload no memory at all, and systemd
/// refuses `MemoryMax=0`.)
const ZERO_LIMIT: &str = "0 means no limit, as in runc and youki (containerd and the kubelet write it \
     for unset)";

pub fn translate(memory: &LinuxMemory, t: &mut Translation) {
    let systemd = t.target.systemd;
    let limit = memory.limit().and_then(|value| {
        let mapping = t.field(format!("{BASE}.limit"), value);
        if value == 0 {
            mapping.to(Destination::ignored(ZERO_LIMIT));
            return None;
        }
        match Limit::from_oci(value) {
            Ok(limit) => {
                mapping.to(MEMORY_MAX.set(Value::Limit(limit), systemd));
                Some(limit)
            }
            Err(why) => {
                mapping.to(Destination::invalid(why));
                None
            }
        }
    });
    if let Some(value) = memory.reservation() {
        let mapping = t.field(format!("{BASE}.reservation"), value);
        match Limit::from_oci(value) {
            Ok(Limit::Finite(0)) => mapping.to(Destination::ignored(
                "0 is the default (no protection), as runc reads it",
            )),
            Ok(low) => mapping.to(MEMORY_LOW.set(Value::Limit(low), systemd)),
            Err(why) => mapping.to(Destination::invalid(why)),
        };
    }
    if let Some(swap) = memory.swap() {
        let mapping = t.field(format!("{BASE}.swap"), swap);
        match swap_max(swap, limit) {
            Ok(Some(swap_max)) => mapping
                .via("memory.swap − memory.limit (OCI swap is memory+swap, cgroup v2 limits swap alone)")
                .to(MEMORY_SWAP_MAX.set(Value::Limit(swap_max), systemd)),
            Ok(None) => mapping.to(Destination::ignored("0 means unset, as in runc")),
            Err(why) => mapping.to(Destination::invalid(why)),
        };
    }
    // Each v1-only field, and why its value asks for nothing when it does (then it is ignored,
    // not dropped: generators write these zeros into every config, and --strict must not fail
    // on them).
    let v1_only = [
        memory.kernel().map(|v| ("kernel", v.into(), no_limit(v))),
        memory
            .kernel_tcp()
            .map(|v| ("kernelTCP", v.into(), no_limit(v))),
        memory
            .swappiness()
            .map(|v| ("swappiness", v.into(), (v == 0).then_some(UNSET_SWAPPINESS))),
        memory.disable_oom_killer().map(|v| {
            (
                "disableOOMKiller",
                v.into(),
                (!v).then_some("false is the default"),
            )
        }),
        memory.use_hierarchy().map(|v| {
            let why = v.then_some("cgroup v2 is always hierarchical");
            ("useHierarchy", serde_json::Value::from(v), why)
        }),
    ];
    for (name, value, asks_nothing) in v1_only.into_iter().flatten() {
        let mapping = t.field(format!("{BASE}.{name}"), &value);
        match asks_nothing {
            Some(why) => mapping.to(Destination::ignored(why)),
            None => mapping.to(Destination::dropped(V1_ONLY)),
        };
    }
    if let Some(check) = memory.check_before_update() {
        t.field(format!("{BASE}.checkBeforeUpdate"), check)
            .to(Destination::ignored(
                "only meaningful when updating a running container",
            ));
    }
}

/// A v1 kernel memory limit of 0 (unset) or -1 asks for no limit.
fn no_limit(value: i64) -> Option<&'static str> {
    matches!(value, 0 | -1).then_some(
        "0 (unset) and -1 ask for no limit; cgroup v2 counts kernel memory in memory.max",
    )
}

const UNSET_SWAPPINESS: &str =
    "0 is what generators write for unset; cgroup v2 has no per-cgroup swappiness";

/// `memory.swap.max` from OCI's memory+swap `swap` and the memory `limit` (`None` when absent
/// or invalid); `Ok(None)` means "unset".
fn swap_max(swap: i64, limit: Option<Limit>) -> Result<Option<Limit>, String> {
    if swap == -1 {
        return Ok(Some(Limit::Infinity));
    }
    if swap == 0 {
        return Ok(None);
    }
    if swap < -1 {
        return Err(format!("{swap} is neither a limit nor -1 (unlimited)"));
    }
    let swap = swap.unsigned_abs();
    match limit {
        Some(Limit::Finite(limit)) if swap >= limit => Ok(Some(Limit::Finite(swap - limit))),
        Some(Limit::Finite(limit)) => Err(format!(
            "{swap} is below memory.limit {limit}: OCI swap is memory+swap, so it must be at \
             least the memory limit (equal means no swap)"
        )),
        _ => Err(
            "memory.swap is a memory+swap limit and needs a positive memory.limit beside it"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::swap_max;
    use crate::plan::value::Limit::{Finite, Infinity};

    #[test]
    fn swap_edge_cases() {
        let gib: u64 = 1 << 30;
        let oci = |v: u64| i64::try_from(v).unwrap();
        assert_eq!(
            swap_max(oci(2 * gib), Some(Finite(gib))),
            Ok(Some(Finite(gib)))
        );
        assert_eq!(swap_max(oci(gib), Some(Finite(gib))), Ok(Some(Finite(0))));
        assert_eq!(swap_max(-1, None), Ok(Some(Infinity)));
        assert_eq!(swap_max(-1, Some(Finite(gib))), Ok(Some(Infinity)));
        assert_eq!(swap_max(0, Some(Finite(gib))), Ok(None));
        assert!(swap_max(oci(gib) - 1, Some(Finite(gib))).is_err());
        assert!(swap_max(oci(gib), None).is_err());
        assert!(swap_max(oci(gib), Some(Infinity)).is_err());
        assert!(swap_max(-2, Some(Finite(gib))).is_err());
    }
}
