//! What `apply` found and did: the `--json` document (`ociunit-apply/1`) and its text.

use std::fmt::Write;

use serde::Serialize;

/// The `--json` document's format; a change to its shape changes the string.
pub const FORMAT: &str = "ociunit-apply/1";
/// Exit status when a change was written to the unit but takes effect only at the next start.
pub const EXIT_RESTART_NEEDED: u8 = 3;

/// Who holds a field: systemd (a property), the payload's leaf cgroup (a launcher write), or
/// the process as it was started (the unit file's start-time settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    Systemd,
    Leaf,
    Start,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Unchanged,
    /// A running unit takes it now.
    Live,
    /// Only a restart applies it.
    Restart,
    /// The unit is not running: the rewritten unit file carries it to the next start.
    NextStart,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Applied,
    Failed,
    /// Not tried, because an earlier change failed; the unit file carries it to the next start.
    NotApplied,
    Restarted,
}

/// One field of the comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// A property (`MemoryMax`), a leaf file (`payload/memory.max`) or a start-time setting
    /// (`ExecStart --env`, `WorkingDirectory`, `runtime config`).
    pub name: String,
    #[serde(rename = "where")]
    pub place: Place,
    pub old: Option<String>,
    pub new: Option<String>,
    pub change: Change,
    /// What applying did; absent with `--dry-run` and for unchanged fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Field {
    /// A field that differs, or not, in the way `change` says.
    pub(super) fn new(
        name: String,
        place: Place,
        old: Option<String>,
        new: Option<String>,
        change: Change,
    ) -> Field {
        Field {
            name,
            place,
            old,
            new,
            change,
            outcome: None,
            error: None,
        }
    }

    /// Whether only a restart brings the running unit to the unit file: a change that needs
    /// one, or a live change that was not made.
    fn waits_for_restart(&self) -> bool {
        self.change == Change::Restart
            || matches!(self.outcome, Some(Outcome::Failed | Outcome::NotApplied))
    }
}

/// The whole report, `--json`'s document.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub unit: String,
    pub dry_run: bool,
    pub active: bool,
    /// A transient service started by `ociunit run --service`: no unit file to rewrite, and no
    /// restart with the bundle's definition.
    pub transient: bool,
    pub main_pid: u32,
    pub fields: Vec<Field>,
    /// Some change is in the unit file but not in the running unit.
    pub restart_needed: bool,
    pub restarted: bool,
    /// What went wrong without failing the apply; the CLI prints them on stderr, as it does a
    /// compile's.
    pub warnings: Vec<String>,
}

impl Report {
    /// A report without fields yet.
    pub(super) fn new(
        unit: String,
        dry_run: bool,
        active: bool,
        transient: bool,
        main_pid: u32,
    ) -> Report {
        Report {
            format: FORMAT,
            unit,
            dry_run,
            active,
            transient,
            main_pid,
            fields: Vec::new(),
            restart_needed: false,
            restarted: false,
            warnings: Vec::new(),
        }
    }

    /// The fields, in the order they were (or would be) applied.
    pub(super) fn set_fields(&mut self, fields: Vec<Field>) {
        self.restart_needed = fields.iter().any(Field::waits_for_restart);
        self.fields = fields;
    }

    /// A restart applied everything that waited for one.
    pub(super) fn restarted(&mut self, main_pid: u32) {
        for field in &mut self.fields {
            if field.waits_for_restart() {
                field.outcome = Some(Outcome::Restarted);
            }
        }
        self.restarted = true;
        self.main_pid = main_pid;
    }

    /// 1 if a change failed (and no restart applied it), [`EXIT_RESTART_NEEDED`] if a restart
    /// is still needed, else 0.
    pub(super) fn exit_code(&self) -> u8 {
        let failed = self
            .fields
            .iter()
            .any(|f| f.outcome == Some(Outcome::Failed));
        match (failed, self.restart_needed, self.restarted) {
            (_, _, true) | (false, false, false) => 0,
            (true, _, false) => 1,
            (false, true, false) => EXIT_RESTART_NEEDED,
        }
    }
}

/// The report as text: one line per field, then what remains to do.
pub fn text(report: &Report, manager_kind: crate::target::Manager) -> String {
    let mut text = String::new();
    let state = if report.active {
        format!("active, main PID {}", report.main_pid)
    } else {
        "not running".to_owned()
    };
    let _ = writeln!(text, "{} ({state}):", report.unit);
    let shown = |value: &Option<String>| match value {
        Some(value) => value.replace('\n', " "),
        None => "(none)".to_owned(),
    };
    for field in &report.fields {
        let label = match (field.change, field.outcome, report.dry_run) {
            (Change::Unchanged, ..) => "unchanged",
            (Change::Live, _, true) => "would change live",
            (Change::Live, Some(Outcome::Applied), _) | (Change::Live, None, false) => {
                "changed live"
            }
            (Change::Live, Some(Outcome::Failed), _) => "FAILED",
            (Change::Live, Some(Outcome::NotApplied), _) => "not applied",
            (Change::Live | Change::Restart, Some(Outcome::Restarted), _) => "restart applied",
            (Change::Restart, ..) => "needs a restart",
            (Change::NextStart, ..) => "next start",
        };
        let value = match field.change {
            Change::Unchanged => shown(&field.new),
            _ => format!("{} → {}", shown(&field.old), shown(&field.new)),
        };
        let _ = writeln!(text, "  {label:<18} {:<24} {value}", field.name);
        if let Some(error) = &field.error {
            let _ = writeln!(text, "  {:<18} {:<24} {error}", "", "");
        }
    }
    let restarts = report
        .fields
        .iter()
        .filter(|f| f.change == Change::Restart)
        .count();
    let live = report
        .fields
        .iter()
        .filter(|f| f.change == Change::Live)
        .count();
    let summary = if report.restarted {
        format!("restarted {}", report.unit)
    } else if report.restart_needed && report.transient {
        format!(
            "{} needs a restart: a transient unit restarts with the definition it was started \
             with; stop it and `ociunit run --service` the bundle again",
            report.unit
        )
    } else if report.restart_needed {
        format!(
            "{} needs a restart: ociunit apply --restart, or {} restart {}",
            report.unit,
            super::super::systemctl(manager_kind),
            report.unit
        )
    } else if !report.active {
        "the unit is not running: the new unit file applies when it starts".to_owned()
    } else if live == 0 && restarts == 0 {
        "nothing to change".to_owned()
    } else if report.dry_run {
        "every change can be applied live".to_owned()
    } else {
        "every change applied live".to_owned()
    };
    let _ = writeln!(text, "{summary}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let code = |change, outcome, restarted| {
            let mut report = Report::new("web.service".into(), false, true, false, 1);
            report.set_fields(vec![Field {
                outcome,
                ..Field::new("x".into(), Place::Leaf, None, None, change)
            }]);
            if restarted {
                report.restarted(2);
            }
            report.exit_code()
        };
        assert_eq!(code(Change::Live, Some(Outcome::Applied), false), 0);
        assert_eq!(code(Change::Unchanged, None, false), 0);
        assert_eq!(code(Change::Restart, None, false), 3);
        assert_eq!(code(Change::Live, Some(Outcome::Failed), false), 1);
        assert_eq!(code(Change::Restart, None, true), 0);
        assert_eq!(code(Change::NextStart, Some(Outcome::Applied), false), 0);
    }
}
