//! `ociunit list`: the units ociunit generated, where they came from, whether their bundle
//! changed since (drift), whether someone edited them, and what systemd says of them.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bundle::hex;
use crate::error::Error;
use crate::regular_file::{self, Links};
use crate::render::escape;
use crate::systemd::{Bus, Via};
use crate::target::Manager;
use crate::unit_file::{self, Ownership};

#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub unit: String,
    pub path: PathBuf,
    pub source: PathBuf,
    /// "current", "changed" (the bundle's config.json differs from the one compiled) or
    /// "missing".
    pub source_state: &'static str,
    /// Container mode: the runtime's config ociunit derived, "current", "changed" or "missing".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_config_state: Option<&'static str>,
    /// The unit no longer matches the hash it was generated with.
    pub edited: bool,
    pub active_state: Option<String>,
    pub sub_state: Option<String>,
}

/// The units ociunit made for `manager`, by name: those installed in the unit directory
/// (`explicit`, else the manager's), and with the manager's own directory also those the
/// generator made at the last daemon-reload.
pub fn units(manager: Manager, explicit: Option<&Path>) -> Result<Vec<Listed>, Error> {
    let mut listed = scan(&super::unit_dir(manager, explicit)?);
    if explicit.is_none() {
        let uid = rustix::process::getuid().as_raw();
        listed.extend(scan(&crate::generator::default_output_dir(manager, uid)));
        listed.sort_by(|a, b| a.unit.cmp(&b.unit));
    }
    Ok(listed)
}

/// The generated units in `dir`, by name.
fn scan(dir: &Path) -> Vec<Listed> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut listed: Vec<Listed> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".service"))
        .filter_map(|entry| {
            // Only read, never replaced: a linked unit (systemctl link) is listed too.
            let bytes = regular_file::read(&entry.path(), Links::Follow).ok()?;
            let (record, edited) = match unit_file::inspect(&String::from_utf8_lossy(&bytes)) {
                Ownership::Generated(record) => (record, false),
                Ownership::Edited(record) => (record, true),
                Ownership::Foreign => return None,
            };
            let source_state = file_state(&record.source, &record.config_sha256);
            let runtime_config_state = record
                .runtime_config
                .as_ref()
                .map(|(path, sha256)| file_state(path, sha256));
            Some(Listed {
                unit: entry.file_name().to_string_lossy().into_owned(),
                path: entry.path(),
                source: record.source,
                source_state,
                runtime_config_state,
                edited,
                active_state: None,
                sub_state: None,
            })
        })
        .collect();
    listed.sort_by(|a, b| a.unit.cmp(&b.unit));
    listed
}

/// Whether the file still has the content it had when the unit was compiled.
fn file_state(path: &Path, sha256: &str) -> &'static str {
    match regular_file::read(path, Links::Follow) {
        Ok(bytes) if hex(&Sha256::digest(&bytes)) == sha256 => "current",
        Ok(_) => "changed",
        Err(_) => "missing",
    }
}

/// Adds systemd's view where the manager answers, every unit in one call; leaves it empty
/// otherwise.
pub fn add_states(listed: &mut [Listed], manager_kind: Manager) {
    if listed.is_empty() {
        return;
    }
    let Ok(mut bus) = Bus::open(manager_kind, Via::Private) else {
        return;
    };
    let names: Vec<&str> = listed.iter().map(|entry| entry.unit.as_str()).collect();
    let Ok(states) = bus.list_units_by_names(&names) else {
        return;
    };
    for entry in listed {
        if let Some(state) = states.iter().find(|state| state.name == entry.unit) {
            entry.active_state = Some(state.active_state.clone());
            entry.sub_state = Some(state.sub_state.clone());
        }
    }
}

/// The table for a terminal. Unit file names and bundle paths can hold any byte but `/`: control
/// characters are shown escaped (see [`escape::printable`]).
pub fn table(listed: &[Listed]) -> String {
    let mut text = format!(
        "{:<32} {:<18} {:<8} {}\n",
        "UNIT", "STATE", "SOURCE", "BUNDLE"
    );
    for entry in listed {
        let state = match (&entry.active_state, &entry.sub_state) {
            (Some(active), Some(sub)) => format!("{active}/{sub}"),
            _ => "unknown".to_owned(),
        };
        let mut source = entry.source_state.to_owned();
        match entry.runtime_config_state {
            Some("current") | None => {}
            Some(state) => {
                let _ = write!(source, "+config-{state}");
            }
        }
        if entry.edited {
            source.push_str("+edited");
        }
        let _ = writeln!(
            text,
            "{:<32} {:<18} {:<8} {}",
            escape::printable(&entry.unit),
            escape::printable(&state),
            source,
            escape::printable(&entry.source.to_string_lossy())
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_escapes_control_characters() {
        let listed = Listed {
            unit: "a\u{1b}[2Jb.service".to_owned(),
            path: PathBuf::from("/u/a.service"),
            source: PathBuf::from("/srv/x\ny/config.json"),
            source_state: "current",
            runtime_config_state: None,
            edited: false,
            active_state: Some("active\u{7}".to_owned()),
            sub_state: Some("running".to_owned()),
        };
        let table = table(&[listed]);
        let row = table.lines().nth(1).unwrap();
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert!(row.starts_with("a\\x1b[2Jb.service "), "{row}");
        assert!(row.contains("active\\x07/running"), "{row}");
        assert!(row.ends_with("/srv/x\\ny/config.json"), "{row}");
    }
}
