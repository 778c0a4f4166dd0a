//! The plan as D-Bus properties for `StartTransientUnit`: the same properties the unit file
//! carries, in their bus spelling, plus what only a transient unit has (`PIDs`, `ExecStart` as
//! `a(sasb)`, `AddRef`).

use std::fmt::Write;
use std::path::Path;

use crate::plan::property::{
    Class, DELEGATE, DELEGATE_SUBGROUP, DbusProperty, DbusValue, Property,
};
use crate::plan::{Plan, Spawner};

/// What kind of transient unit, with what belongs to that kind only.
#[derive(Clone, Debug)]
pub enum Transient<'a> {
    /// A scope around an existing process; the launcher logic then runs in that process.
    Scope { pid: u32 },
    /// A service whose `ExecStart=` is the launcher.
    Service { launcher: &'a Path },
}

/// Choices of `ociunit run` that become unit properties.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub description: Option<String>,
    pub slice: Option<String>,
    /// `CollectMode=inactive-or-failed`: unload the unit even when it failed.
    pub collect: bool,
    /// Keep the unit loaded until this client has read its result (`--wait`).
    pub add_ref: bool,
}

fn str_property(name: &'static str, value: impl Into<String>) -> DbusProperty {
    DbusProperty::new(name, DbusValue::Str(value.into()))
}

/// The properties for `StartTransientUnit`, in the order they are sent; later ones win in
/// systemd, as in a unit file.
pub fn properties(plan: &Plan, transient: &Transient, options: &RunOptions) -> Vec<DbusProperty> {
    let description = options.description.clone().unwrap_or_else(|| {
        let bundle = plan.source.config.parent().unwrap_or(&plan.source.config);
        format!("OCI bundle {}", bundle.display())
    });
    let mut properties = vec![str_property("Description", description)];
    if let Some(slice) = &options.slice {
        properties.push(str_property("Slice", slice.clone()));
    }
    properties.extend(Property::new(&DELEGATE, "yes", DbusValue::Bool(true)).dbus);
    if options.collect {
        properties.push(str_property("CollectMode", "inactive-or-failed"));
    }
    if options.add_ref {
        properties.push(DbusProperty::new("AddRef", DbusValue::Bool(true)));
    }
    let service = match transient {
        Transient::Scope { pid } => {
            properties.push(DbusProperty::new("PIDs", DbusValue::U32List(vec![*pid])));
            None
        }
        Transient::Service { launcher } => {
            properties.push(str_property("Type", plan.service_type()));
            if let Some(leaf) = plan.delegate_subgroup() {
                properties.extend(
                    Property::new(&DELEGATE_SUBGROUP, leaf, DbusValue::Str(leaf.into())).dbus,
                );
            }
            for property in plan
                .container
                .iter()
                .flat_map(super::super::plan::container::Container::service_properties)
            {
                properties.extend(property.dbus);
            }
            Some(launcher)
        }
    };
    for property in plan.properties() {
        if property.spec.class == Class::Exec && service.is_none() {
            continue;
        }
        properties.extend(property.dbus.iter().cloned());
    }
    if let Some(launcher) = service {
        // systemd expands $VAR in ExecStart= arguments received over the bus too; `$$` is a `$`.
        let path = launcher.to_string_lossy().into_owned();
        let mut argv = vec![path.clone()];
        argv.extend(plan.launch_spec(Spawner::Systemd).0.to_args());
        let argv = argv.iter().map(|word| word.replace('$', "$$")).collect();
        properties.push(DbusProperty::new(
            "ExecStart",
            DbusValue::Commands(vec![(path, argv, false)]),
        ));
    }
    properties
}

/// A readable listing, one property per line in GVariant-like text, for `--dry-run` and the
/// snapshots that sit next to the unit-file ones.
pub fn listing(unit: &str, mode: &str, properties: &[DbusProperty]) -> String {
    let mut text = format!("StartTransientUnit {unit:?} {mode:?}\n");
    for property in properties {
        let value = serde_json::to_string(&property.value).unwrap_or_default();
        let _ = writeln!(text, "  {} {} {}", property.name, property.signature, value);
    }
    text
}
