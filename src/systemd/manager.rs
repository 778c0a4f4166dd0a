//! The Manager's methods ociunit calls, typed: what each sends and what its answer means.

use serde::Serialize;
use std::fmt::Write;
use zbus::Message;
use zbus::message::Builder;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

use super::CallFailed;
use super::bus::Bus;
use super::jobs::Job;

pub(super) const SERVICE: &str = "org.freedesktop.systemd1";
pub(super) const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
pub(super) const MANAGER: &str = "org.freedesktop.systemd1.Manager";
pub(super) const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// One change of `EnableUnitFiles` or `DisableUnitFiles`.
#[derive(Clone, Debug, Serialize)]
pub struct LinkChange {
    /// `symlink` or `unlink`.
    pub kind: String,
    pub link: String,
    /// The unit the link points to (empty for `unlink`).
    pub target: String,
}

fn link_changes(changes: Vec<(String, String, String)>) -> Vec<LinkChange> {
    changes
        .into_iter()
        .map(|(kind, link, target)| LinkChange { kind, link, target })
        .collect()
}

impl Bus {
    pub fn start_transient_unit(
        &mut self,
        unit: &str,
        properties: Vec<(&str, Value<'_>)>,
    ) -> Result<Job, CallFailed> {
        let aux: Vec<(&str, Vec<(&str, Value)>)> = Vec::new();
        let call = manager_call("StartTransientUnit", &(unit, "fail", properties, aux))?;
        self.job(&call, "start")
    }

    pub fn start_unit(&mut self, unit: &str) -> Result<Job, CallFailed> {
        self.job(&manager_call("StartUnit", &(unit, "replace"))?, "start")
    }

    pub fn restart_unit(&mut self, unit: &str) -> Result<Job, CallFailed> {
        self.job(&manager_call("RestartUnit", &(unit, "replace"))?, "restart")
    }

    pub fn stop_unit(&mut self, unit: &str) -> Result<Job, CallFailed> {
        self.job(&manager_call("StopUnit", &(unit, "replace"))?, "stop")
    }

    pub fn reset_failed_unit(&mut self, unit: &str) -> Result<(), CallFailed> {
        self.call(&manager_call("ResetFailedUnit", &(unit,))?)
            .map(drop)
    }

    pub fn set_unit_properties(
        &mut self,
        unit: &str,
        runtime: bool,
        properties: Vec<(&str, Value<'_>)>,
    ) -> Result<(), CallFailed> {
        self.call(&manager_call(
            "SetUnitProperties",
            &(unit, runtime, properties),
        )?)
        .map(drop)
    }

    pub fn reload(&mut self) -> Result<(), CallFailed> {
        self.call(&manager_call("Reload", &())?).map(drop)
    }

    /// Enables `units` (not at runtime only, not forced): the links made.
    pub fn enable_unit_files(&mut self, units: &[&str]) -> Result<Vec<LinkChange>, CallFailed> {
        let reply = self.call(&manager_call("EnableUnitFiles", &(units, false, false))?)?;
        let (_, changes): (bool, Vec<(String, String, String)>) = reply.body().deserialize()?;
        Ok(link_changes(changes))
    }

    /// Disables `units` (not at runtime only): the links removed.
    pub fn disable_unit_files(&mut self, units: &[&str]) -> Result<Vec<LinkChange>, CallFailed> {
        let reply = self.call(&manager_call("DisableUnitFiles", &(units, false))?)?;
        Ok(link_changes(reply.body().deserialize()?))
    }

    /// Something that stops `unit` from another thread (Ctrl-C), while this one waits.
    pub fn stopper(&self, unit: &str) -> impl Fn() -> zbus::Result<()> + Send + 'static {
        let wire = std::sync::Arc::clone(&self.wire);
        let unit = unit.to_owned();
        move || {
            let call = manager_call("StopUnit", &(unit.as_str(), "replace"))?;
            wire.send(&call)?;
            Ok(())
        }
    }

    fn job(&mut self, call: &Message, kind: &'static str) -> Result<Job, CallFailed> {
        let path: OwnedObjectPath = self.call(call)?.body().deserialize()?;
        Ok(Job(path, kind))
    }
}

/// The object path systemd gives `unit`: every byte but a letter (or a digit after the first)
/// as `_xx`.
pub fn unit_path(unit: &str) -> String {
    let mut path = String::from("/org/freedesktop/systemd1/unit/");
    for (i, byte) in unit.bytes().enumerate() {
        if byte.is_ascii_alphabetic() || (i > 0 && byte.is_ascii_digit()) {
            path.push(byte as char);
        } else {
            let _ = write!(path, "_{byte:02x}");
        }
    }
    if unit.is_empty() {
        path.push('_');
    }
    path
}

pub(super) fn bus_call<B>(member: &str, body: &B) -> zbus::Result<Message>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    Message::method_call("/org/freedesktop/DBus", member)?
        .destination("org.freedesktop.DBus")?
        .interface("org.freedesktop.DBus")?
        .build(body)
}

pub(super) fn add_match(rule: &str) -> zbus::Result<Message> {
    bus_call("AddMatch", &(rule,))
}

pub(super) fn manager_call<B>(member: &str, body: &B) -> zbus::Result<Message>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    method(MANAGER_PATH, MANAGER, member)?.build(body)
}

fn method<'a>(path: &'a str, interface: &'a str, member: &'a str) -> zbus::Result<Builder<'a>> {
    Message::method_call(path, member)?
        .destination(SERVICE)?
        .interface(interface)
}

/// A Properties.Get call.
pub(super) fn get(path: &str, interface: &str, property: &str) -> zbus::Result<Message> {
    method(path, PROPERTIES, "Get")?.build(&(interface, property))
}

pub(super) fn get_all(path: &str, interface: &str) -> zbus::Result<Message> {
    method(path, PROPERTIES, "GetAll")?.build(&(interface,))
}

/// The value in a Properties.Get reply.
pub(super) fn variant<T>(reply: &Message) -> Result<T, CallFailed>
where
    T: TryFrom<OwnedValue>,
    T::Error: Into<zbus::Error>,
{
    let value: OwnedValue = reply.body().deserialize()?;
    T::try_from(value).map_err(|err| CallFailed::from(err.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_paths_are_escaped_like_systemd() {
        assert_eq!(
            unit_path("ovm-run-scope.scope"),
            "/org/freedesktop/systemd1/unit/ovm_2drun_2dscope_2escope"
        );
        assert_eq!(
            unit_path("1a_b@2.service"),
            "/org/freedesktop/systemd1/unit/_31a_5fb_402_2eservice"
        );
    }
}
