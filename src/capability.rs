//! Linux capabilities by name and number, shared by the compiler (`CapabilityBoundingSet=`,
//! `AmbientCapabilities=`) and the launcher (`--capability-bounding-set` in scope mode).

/// `CAP_*` names indexed by capability number (linux/capability.h, up to Linux 5.9's
/// `CAP_CHECKPOINT_RESTORE`; systemd 252 and the runtimes know the same 41).
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Every capability in [`NAMES`].
pub const ALL: u64 = (1 << NAMES.len()) - 1;

/// The mask of one `CAP_*` name.
pub fn bit(name: &str) -> Option<u64> {
    NAMES.iter().position(|n| *n == name).map(|i| 1 << i)
}

/// The names in `mask`, in capability-number order (systemd's own order).
pub fn names(mask: u64) -> Vec<&'static str> {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Parses a list of names, as the launcher's `--capability-bounding-set` carries it.
pub fn parse_list(text: &str, separator: char) -> Result<u64, String> {
    text.split(separator)
        .filter(|name| !name.is_empty())
        .try_fold(0, |mask, name| {
            bit(name)
                .map(|b| mask | b)
                .ok_or_else(|| format!("{name:?} is not a capability name"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_agree_with_the_kernel() {
        assert_eq!(bit("CAP_CHOWN"), Some(1));
        assert_eq!(bit("CAP_SYS_ADMIN"), Some(1 << 21));
        assert_eq!(bit("CAP_CHECKPOINT_RESTORE"), Some(1 << 40));
        assert_eq!(bit("CAP_NOPE"), None);
        let mask = (1 << 5) | (1 << 10) | (1 << 29);
        assert_eq!(
            names(mask),
            ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
        );
        assert_eq!(parse_list(&names(mask).join(","), ','), Ok(mask));
        assert_eq!(parse_list("", ','), Ok(0));
        assert!(parse_list("CAP_KILL,kill", ',').is_err());
        assert_eq!(names(ALL).len(), 41);
    }
}
