//! What a unit needs to run the bundle as a container: the runtime, where its config and state
//! live, and the command line the launcher execs once the leaf cgroup is ready.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::plan::property::{
    DbusValue, KILL_MODE, Property, RUNTIME_DIRECTORY, SUCCESS_EXIT_STATUS,
};
use crate::runtime::{Kind, Runtime};

/// The container half of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Container {
    pub runtime: Runtime,
    /// The container's ID for the runtime: the unit's name, reduced to what runtimes accept.
    pub id: String,
    /// The derived config's directory, the runtime's `--bundle`.
    pub config_dir: PathBuf,
    /// The runtime's state directory, its `--root`. A service gets it as `RuntimeDirectory=`,
    /// which systemd empties on every stop, so a killed runtime never blocks the next start.
    pub state_dir: PathBuf,
    /// `RuntimeDirectory=`, relative to the manager's runtime directory.
    pub runtime_directory: String,
    /// The runtime's `config.json`, as ociunit writes it.
    #[serde(skip)]
    pub config: Value,
}

impl Container {
    /// The container's ID: runtimes take letters, digits and `_.-`; anything else in the unit
    /// name (systemd's `\xNN` escapes) becomes `_`.
    pub fn id_for(unit: &str) -> String {
        let stem = unit
            .strip_suffix(".service")
            .or_else(|| unit.strip_suffix(".scope"))
            .unwrap_or(unit);
        // A leading '.' would make `.` or `..` possible, which no path may be.
        stem.char_indices()
            .map(|(i, c)| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
                '.' if i > 0 => c,
                _ => '_',
            })
            .collect()
    }

    /// The derived config's bytes: what is written and what its recorded hash covers.
    pub fn config_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.config).expect("plain JSON");
        text.push('\n');
        text
    }

    /// The service settings container mode needs, for the unit file and a transient service
    /// alike. The runtime is the main process and forwards the stop signal to the container, so
    /// only it gets the signal (the rest of the cgroup is killed if it does not stop in time);
    /// it reports a container ended by that SIGTERM as 143, which systemd would count as a
    /// failure; its state lives in the runtime directory, which systemd empties on every stop.
    pub fn service_properties(&self) -> Vec<Property> {
        vec![
            Property::new(&KILL_MODE, "mixed", DbusValue::Str("mixed".into())),
            Property::new(
                &SUCCESS_EXIT_STATUS,
                "143",
                DbusValue::ExitStatuses(vec![143], Vec::new()),
            ),
            Property::new(
                &RUNTIME_DIRECTORY,
                self.runtime_directory.clone(),
                DbusValue::StrList(vec![self.runtime_directory.clone()]),
            ),
        ]
    }

    /// What the launcher execs: the runtime in the foreground, so that it stays the unit's main
    /// process, forwards the stop signal to the container and exits with its status. crun's
    /// `disabled` cgroup manager creates no cgroup and writes no limit; runc has no such mode
    /// and puts the container into the prepared leaf named by the derived `cgroupsPath`.
    pub fn command(&self) -> Vec<String> {
        let mut argv = vec![
            self.runtime.path.to_string_lossy().into_owned(),
            "--root".to_owned(),
            self.state_dir.to_string_lossy().into_owned(),
        ];
        if self.runtime.kind == Kind::Crun {
            argv.push("--cgroup-manager=disabled".to_owned());
        }
        argv.extend([
            "run".to_owned(),
            "--bundle".to_owned(),
            self.config_dir.to_string_lossy().into_owned(),
            self.id.clone(),
        ]);
        argv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_what_runtimes_accept() {
        assert_eq!(Container::id_for("web.service"), "web");
        assert_eq!(Container::id_for(r"my\x20app-1f2e.scope"), "my_x20app-1f2e");
        assert_eq!(Container::id_for("...service"), "_.");
    }
}
