//! `ociunit explain`: one entry per field of the bundle, saying where it went.
//!
//! The JSON form (`--json`) is a stable interface, documented in the README: its `format` member
//! changes when anything else does.

use serde::Serialize;
use serde_json::json;
use std::fmt::Write;

use crate::error::Error;
use crate::plan::{Destination, Mapping, Plan};
use crate::runtime::Mode;

pub const FORMAT: &str = "ociunit-explain/2";

#[derive(Serialize)]
struct Report<'a> {
    format: &'static str,
    config: String,
    sha256: &'a str,
    unit: &'a str,
    target: crate::target::Target,
    mode: &'a crate::runtime::Mode,
    fields: &'a [Mapping],
}

pub fn json(plan: &Plan) -> String {
    let report = Report {
        format: FORMAT,
        config: plan.source.config.to_string_lossy().into_owned(),
        sha256: &plan.source.sha256,
        unit: &plan.unit,
        target: plan.target,
        mode: &plan.mode,
        fields: &plan.mappings,
    };
    let mut text = serde_json::to_string_pretty(&report).expect("the report is plain data");
    text.push('\n');
    text
}

fn describe(destination: &Destination) -> String {
    match destination {
        Destination::Property { property, leaf } => {
            let dbus: Vec<String> = property
                .dbus
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {}",
                        p.name,
                        p.signature,
                        serde_json::to_string(&p.value).unwrap_or_default()
                    )
                })
                .collect();
            let mut text = format!(
                "{}={}  [D-Bus {}]",
                property.key,
                property.value,
                dbus.join(", ")
            );
            if let Some(leaf) = leaf {
                let _ = write!(
                    text,
                    "\n      + launcher writes {leaf} in the payload's cgroup"
                );
            }
            text
        }
        Destination::Launcher { write, why } => format!("launcher writes {write} ({why})"),
        Destination::Payload { what } => format!("payload: {what}"),
        Destination::Runtime { what } => format!("runtime: {what}"),
        Destination::Added { what } => format!("added: {what}"),
        Destination::Ignored { why } => format!("ignored: {why}"),
        Destination::Dropped { why } => format!("DROPPED: {why}"),
        Destination::Invalid { why } => format!("ERROR: {why}"),
    }
}

pub fn text(plan: &Plan) -> Result<String, Error> {
    let fields: Vec<_> = plan
        .mappings
        .iter()
        .map(|m| {
            json!({
                "path": m.path,
                "value": serde_json::to_string(&m.value).unwrap_or_default(),
                "conversion": m.conversion,
                "lines": m.destinations.iter().map(|d| format!("→ {}", describe(d))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (errors, drops) = (plan.errors().len(), plan.drops().len());
    let summary = match (errors, drops) {
        (0, 0) => String::new(),
        _ => format!("{errors} error(s), {drops} field(s) dropped"),
    };
    super::render(
        "explain.txt",
        json!({
            "unit": plan.unit,
            "manager": plan.target.manager,
            "systemd": plan.target.systemd,
            "config": plan.source.config.to_string_lossy(),
            "mode": match &plan.mode {
                Mode::Host { why } => format!("on the host: {why}"),
                Mode::Container { runtime, why } => format!(
                    "as a container, with {} {} ({}): {why}",
                    runtime.kind.name(),
                    runtime.version_shown(),
                    runtime.path.display()
                ),
            },
            "fields": fields,
            "summary": summary,
        }),
    )
}
