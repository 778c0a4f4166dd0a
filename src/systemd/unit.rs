//! A unit as the manager sees it now: its Unit and Service properties, each interface read with
//! one `GetAll` and the two pipelined, never a `Get` per property. Read again after a change;
//! nothing here is a cache.

use std::collections::HashMap;

use zbus::zvariant::OwnedValue;

use super::CallFailed;
use super::bus::Bus;
use super::manager::{get, get_all, unit_path, variant};

const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SERVICE: &str = "org.freedesktop.systemd1.Service";

/// One interface's properties, by D-Bus name.
pub struct Properties(HashMap<String, OwnedValue>);

impl Properties {
    /// The property, if the interface has it with that type.
    pub fn get<T>(&self, name: &str) -> Option<T>
    where
        T: TryFrom<OwnedValue>,
    {
        T::try_from(self.0.get(name)?.try_clone().ok()?).ok()
    }

    /// A text property, or "" when there is none.
    pub fn text(&self, name: &str) -> String {
        self.get::<String>(name).unwrap_or_default()
    }
}

/// A unit's state and its service's properties.
pub struct UnitState {
    /// `loaded`, `not-found`, `bad-setting`, `masked`, …
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    /// The unit file it was loaded from ("" for none).
    pub fragment_path: String,
    /// Made by `StartTransientUnit` rather than loaded from a file of the user's.
    pub transient: bool,
    /// The running invocation's ID in hex, "" when none runs.
    pub invocation_id: String,
    /// Every property of the Service interface (empty for a unit of another type).
    pub service: Properties,
}

impl UnitState {
    /// The manager has no unit of that name: no file, not transient, not running. (Asking for
    /// it made it load a stub that it forgets again.)
    pub fn not_found(&self) -> bool {
        self.load_state == "not-found" && self.active_state == "inactive"
    }

    pub fn active(&self) -> bool {
        matches!(self.active_state.as_str(), "active" | "reloading")
    }
}

/// One row of `ListUnitsByNames`.
pub struct ListedUnit {
    pub name: String,
    pub active_state: String,
    pub sub_state: String,
}

/// `ListUnitsByNames`' row: name, description, load, active and sub state, followed, job.
type UnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    zbus::zvariant::OwnedObjectPath,
    u32,
    String,
    zbus::zvariant::OwnedObjectPath,
);

impl Bus {
    /// `unit`'s state and its service's properties, both interfaces asked for in one write. The
    /// manager loads a unit that is not loaded when its object is asked for.
    pub fn unit(&mut self, unit: &str) -> Result<UnitState, CallFailed> {
        let path = unit_path(unit);
        let calls = [get_all(&path, UNIT)?, get_all(&path, SERVICE)?];
        let mut replies = self.pipelined(&calls).into_iter();
        let mut next = || -> Result<Properties, CallFailed> {
            let reply = replies.next().ok_or_else(|| CallFailed {
                name: String::new(),
                message: "no reply".into(),
            })??;
            Ok(Properties(reply.body().deserialize()?))
        };
        let unit = next()?;
        let service = next()?;
        Ok(UnitState {
            load_state: unit.text("LoadState"),
            active_state: unit.text("ActiveState"),
            sub_state: unit.text("SubState"),
            fragment_path: unit.text("FragmentPath"),
            transient: unit.get::<bool>("Transient").unwrap_or(false),
            invocation_id: crate::bundle::hex(
                &unit.get::<Vec<u8>>("InvocationID").unwrap_or_default(),
            ),
            service,
        })
    }

    /// The state of each of `units`, in one call; the manager loads those not loaded.
    pub fn list_units_by_names(&mut self, units: &[&str]) -> Result<Vec<ListedUnit>, CallFailed> {
        let call = super::manager::manager_call("ListUnitsByNames", &(units,))?;
        let rows: Vec<UnitRow> = self.call(&call)?.body().deserialize()?;
        Ok(rows
            .into_iter()
            .map(|(name, _, _, active_state, sub_state, ..)| ListedUnit {
                name,
                active_state,
                sub_state,
            })
            .collect())
    }

    /// `unit`'s ActiveState and InvocationID, and `interface`'s properties, in one write: what
    /// following a service to its end reads after each change.
    pub fn unit_and_interface(
        &mut self,
        unit: &str,
        interface: &str,
    ) -> Result<(String, Vec<u8>, Properties), CallFailed> {
        let path = unit_path(unit);
        let calls = [
            get(&path, UNIT, "ActiveState")?,
            get(&path, UNIT, "InvocationID")?,
            get_all(&path, interface)?,
        ];
        let serials: Vec<_> = calls
            .iter()
            .map(|call| self.wire.send(call))
            .collect::<std::io::Result<_>>()?;
        let [state, invocation, all] = serials[..] else {
            unreachable!("three calls were sent");
        };
        let state: String = variant(&self.reply(state)?)?;
        // What changed before the state's answer is older than it; what comes after it, while
        // the other answers are read, is news, and may be the very change to wait for.
        self.signals.clear();
        let invocation: Vec<u8> = variant(&self.reply(invocation)?).unwrap_or_default();
        let all = Properties(self.reply(all)?.body().deserialize()?);
        Ok((state, invocation, all))
    }
}
