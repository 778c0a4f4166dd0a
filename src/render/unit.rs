//! The `.service` file.

use std::path::Path;

use serde_json::json;
use sha2::Digest;

use crate::error::Error;
use crate::plan::property::{Class, Property};
use crate::plan::{Plan, Spawner};
use crate::render::escape;

/// One `KEY=VALUE` line, its value escaped for the setting's own rules.
fn setting_line(property: &Property) -> Result<serde_json::Value, Error> {
    let value = escape::setting(&property.value, property.spec.specifiers)
        .map_err(|why| Error::Host(format!("{}: {why}", property.key)))?;
    Ok(json!({ "key": property.key, "value": value }))
}

pub fn render(plan: &Plan, launcher: &Path) -> Result<String, Error> {
    let mut exec_settings = Vec::new();
    let mut resources = Vec::new();
    let container_settings = plan.container.iter().flat_map(|c| c.service_properties());
    for property in plan.properties().cloned().chain(container_settings) {
        let line = setting_line(&property)?;
        match property.spec.class {
            Class::Exec => exec_settings.push(line),
            _ => resources.push(line),
        }
    }
    let mut exec_start = vec![vec![launcher.to_string_lossy().into_owned()]];
    exec_start.extend(plan.launch_spec(Spawner::Systemd).0.to_arg_groups());
    let bundle = plan.source.config.parent().unwrap_or(&plan.source.config);
    let container = plan.container.as_ref().map(|c| {
        json!({
            "runtime": format!("{} {}", c.runtime.kind.name(), c.runtime.version),
            "config": c.config_dir.join("config.json").to_string_lossy(),
            "config_sha256": crate::bundle::hex(&sha2::Sha256::digest(c.config_text())),
        })
    });
    let text = super::render(
        "unit.service",
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("OCI bundle {}", bundle.display()),
            "source": plan.source.config.to_string_lossy(),
            "sha256": plan.source.sha256,
            "manager": plan.target.manager,
            "systemd": plan.target.systemd,
            "service_type": plan.service_type(),
            "delegate_subgroup": plan.delegate_subgroup(),
            "container": container,
            "leaf": plan.leaf,
            "resources": resources,
            "exec_settings": exec_settings,
            "exec_start": exec_start,
            "wanted_by": plan.target.manager.install_target(),
        }),
    )?;
    Ok(crate::unit_file::seal(&text))
}
