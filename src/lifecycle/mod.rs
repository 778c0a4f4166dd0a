//! The reviewable lifecycle of persistent units: `install`, `diff`, `apply`, `list`, `status`,
//! `uninstall`. Every step keeps to one rule: a unit ociunit did not generate, or one edited by
//! hand since, is never replaced or removed silently.

pub mod apply;
pub mod diff;
pub mod install;
pub mod list;
pub mod status;
pub mod uninstall;

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::target::Manager;

/// Where units go: `--unit-dir`, else `~/.config/systemd/user` for the user manager (honouring
/// `$XDG_CONFIG_HOME`) and `/etc/systemd/system` for the system manager.
pub fn unit_dir(manager: Manager, explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(dir) = explicit {
        return Ok(dir.to_owned());
    }
    match manager {
        Manager::System => Ok(PathBuf::from("/etc/systemd/system")),
        Manager::User => Ok(config_home("--unit-dir")?.join("systemd").join("user")),
    }
}

/// The user's configuration directory, `$XDG_CONFIG_HOME` or `~/.config`; `option` is what to
/// give instead when neither is set.
pub fn config_home(option: &'static str) -> Result<PathBuf, Error> {
    xdg_dir("XDG_CONFIG_HOME", ".config", option)
}

/// An XDG base directory: `$variable` if it is absolute, else `under_home` in `$HOME`; `option`
/// is what to give instead when neither is set.
pub fn xdg_dir(
    variable: &'static str,
    under_home: &str,
    option: &'static str,
) -> Result<PathBuf, Error> {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(under_home)))
        .ok_or(Error::Environment { variable, option })
}

/// The systemctl spelling of the manager, for messages.
pub fn systemctl(manager: Manager) -> &'static str {
    match manager {
        Manager::User => "systemctl --user",
        Manager::System => "systemctl",
    }
}
