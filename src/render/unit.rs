//! The `.service` file.

use std::borrow::Cow;
use std::path::Path;

use serde::Serialize;
use sha2::Digest;

use crate::error::Error;
use crate::plan::container::Container;
use crate::plan::property::{Class, Property};
use crate::plan::{Plan, Spawner};
use crate::render::escape;
use crate::target::Manager;

/// What the template fills in. Borrowed and typed rather than a JSON value: the generator
/// renders a unit for every declared bundle at every daemon-reload.
#[derive(Serialize)]
struct Context<'a> {
    version: &'static str,
    description: String,
    source: Cow<'a, str>,
    sha256: &'a str,
    manager: Manager,
    systemd: u32,
    service_type: &'static str,
    delegate_subgroup: Option<&'a str>,
    container: Option<ContainerRecord>,
    resources: Vec<Setting>,
    exec_settings: Vec<Setting>,
    /// Escaped already, like the settings' values.
    exec_start: String,
    wanted_by: &'static str,
}

#[derive(Serialize)]
struct ContainerRecord {
    runtime: String,
    config: String,
    config_sha256: String,
}

/// One `KEY=VALUE` line, its value escaped for the setting's own rules.
#[derive(Serialize)]
struct Setting {
    key: &'static str,
    value: String,
}

fn setting_line(property: &Property) -> Result<Setting, Error> {
    let value = escape::setting(&property.value, property.spec.specifiers).map_err(|why| {
        Error::Render {
            what: property.key.to_owned(),
            why: why.clone(),
        }
    })?;
    Ok(Setting {
        key: property.key,
        value,
    })
}

pub fn render(plan: &Plan, launcher: &Path) -> Result<String, Error> {
    render_with_config(plan, launcher).map(|(unit, _)| unit)
}

/// The unit, and in container mode the runtime's config whose hash it records
/// ([`Container::config_text`]), for a caller that writes both and so need not serialize the
/// config twice.
pub fn render_with_config(plan: &Plan, launcher: &Path) -> Result<(String, Option<String>), Error> {
    let mut exec_settings = Vec::new();
    let mut resources = Vec::new();
    let container_settings: Vec<Property> = plan
        .container
        .iter()
        .flat_map(Container::service_properties)
        .collect();
    for property in plan.properties().chain(&container_settings) {
        let line = setting_line(property)?;
        match property.spec.class {
            Class::Exec => exec_settings.push(line),
            _ => resources.push(line),
        }
    }
    let mut exec_start = vec![vec![launcher.to_string_lossy().into_owned()]];
    exec_start.extend(plan.launch_spec(Spawner::Systemd).0.to_arg_groups());
    let bundle = plan.source.config.parent().unwrap_or(&plan.source.config);
    let config = plan.container.as_ref().map(Container::config_text);
    let container = plan
        .container
        .as_ref()
        .zip(config.as_deref())
        .map(|(c, text)| ContainerRecord {
            runtime: format!("{} {}", c.runtime.kind.name(), c.runtime.version_shown()),
            config: c
                .config_dir
                .join("config.json")
                .to_string_lossy()
                .into_owned(),
            config_sha256: crate::bundle::hex(&sha2::Sha256::digest(text)),
        });
    let text = super::render(
        "unit.service",
        Context {
            version: env!("CARGO_PKG_VERSION"),
            description: format!("OCI bundle {}", bundle.display()),
            source: plan.source.config.to_string_lossy(),
            sha256: &plan.source.sha256,
            manager: plan.target.manager,
            systemd: plan.target.systemd,
            service_type: plan.service_type(),
            delegate_subgroup: plan.delegate_subgroup(),
            container,
            resources,
            exec_settings,
            exec_start: escape::exec_lines(&exec_start),
            wanted_by: plan.target.manager.install_target(),
        },
    )?;
    Ok((crate::unit_file::seal(&text), config))
}
