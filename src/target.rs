//! What we compile for: which manager (user or system) and which systemd version.

use std::process::Command;

/// systemd version assumed when the local one cannot be asked: Debian 12 and RHEL 9 ship 252.
pub const FALLBACK_SYSTEMD: u32 = 252;

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
}
