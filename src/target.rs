//! What we compile for: which manager (user or system) and which systemd version.

use std::process::Command;

use crate::error::Error;

/// systemd version assumed when the local one cannot be asked: Debian 12 and RHEL 9 ship 252.
pub const FALLBACK_SYSTEMD: u32 = 252;

/// The oldest systemd ociunit compiles for. Below 238 a user manager gets no usable cgroup v2
/// controllers (user@.service delegated `cpu pids` in 236-237 and nothing before, and only 238
/// forwards moves into a delegated subtree), so rootless limits cannot work; the property table
/// needs 232 for `CPUWeight=` and `MemorySwapMax=` with nothing to fall back on; and 239 (RHEL
/// 8's) is the oldest version the snapshots and the downgrade stage are tested for.
pub const MIN_SYSTEMD: u32 = 239;

/// `version`, if ociunit supports it.
pub fn supported(version: u32) -> Result<u32, String> {
    if version < MIN_SYSTEMD {
        return Err(format!(
            "systemd {version} is older than {MIN_SYSTEMD}, the oldest ociunit supports (cgroup v2 \
             delegation to user managers needs 238, the resource properties 232; 239 is RHEL 8's)"
        ));
    }
    Ok(version)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    User,
    System,
}

impl Manager {
    /// Like systemctl: root talks to the system manager, everyone else to their own.
    pub fn for_current_user() -> Manager {
        if rustix::process::geteuid().is_root() {
            Manager::System
        } else {
            Manager::User
        }
    }

    pub fn install_target(self) -> &'static str {
        match self {
            Manager::User => "default.target",
            Manager::System => "multi-user.target",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    pub manager: Manager,
    pub systemd: u32,
}

/// The version to compile for without `--systemd-version`: the local systemd's, else
/// [`FALLBACK_SYSTEMD`]; a local one ociunit does not support is an error.
pub fn local_target() -> Result<u32, Error> {
    Ok(local_systemd_version()
        .map(supported)
        .transpose()
        .map_err(|why| Error::Usage(format!("the local {why}; give --systemd-version")))?
        .unwrap_or(FALLBACK_SYSTEMD))
}

/// The version of the local systemd, from `systemctl --version` ("systemd 252 (252.38-1~deb12u1)").
pub fn local_systemd_version() -> Option<u32> {
    let output = Command::new("systemctl").arg("--version").output().ok()?;
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

fn parse_version(text: &str) -> Option<u32> {
    text.lines().next()?.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_systemctl_version() {
        assert_eq!(
            super::parse_version("systemd 252 (252.38-1~deb12u1)\n+PAM"),
            Some(252)
        );
        assert_eq!(
            super::parse_version("systemd 257 (257.13-1~deb13u1)"),
            Some(257)
        );
        assert_eq!(super::parse_version(""), None);
    }

    #[test]
    fn versions_below_the_floor_are_refused() {
        assert_eq!(super::supported(239), Ok(239));
        assert_eq!(super::supported(257), Ok(257));
        let err = super::supported(238).unwrap_err();
        assert!(err.starts_with("systemd 238 is older than 239"), "{err}");
        assert!(super::supported(0).is_err());
    }
}
