//! The one client of systemd's manager: every connection, call and job wait of every command
//! goes through [`Bus`].
//!
//! It is the way sd-bus (and so `systemctl` and `systemd-run`) talks to the manager: one
//! blocking socket driven on the calling thread, the manager's private socket where nothing of
//! the bus is needed, calls pipelined where their answers are independent. zbus only marshals
//! and parses messages: its connection costs a thread for the socket reader, one for its reactor
//! and one to connect, with a hand-off between them for every reply, and its handshake waits for
//! the authentication before it sends Hello; under a slow guest that made `run` slower than
//! `systemd-run` (benches/START-PATH.md).
//!
//! - `wire`: the socket, the handshake, whole messages in and out;
//! - `bus`: the connection: open (pipelined with the caller's own work), calls, replies, the
//!   signals met on the way;
//! - `manager`: the Manager's methods, typed;
//! - `unit`: a unit's state, read in one pipelined pair of `GetAll`s;
//! - `jobs`: the one job waiter, and following a unit to its end.

mod bus;
mod jobs;
mod manager;
mod unit;
mod wire;

use std::path::PathBuf;

use zbus::zvariant::{self, Value};

pub use bus::{Bus, Opening};
pub use jobs::Job;
pub use manager::{LinkChange, unit_path};
pub use unit::{ListedUnit, Properties, UnitState};
pub use wire::Via;

use crate::error::Error;
use crate::plan::property::{DbusProperty, DbusValue};
use crate::target::Manager;

/// Where the user's manager keeps its sockets and runtime state.
pub fn user_runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR").map_or_else(
        || PathBuf::from(format!("/run/user/{}", rustix::process::getuid().as_raw())),
        PathBuf::from,
    )
}

/// The directory of drop-ins that `SetUnitProperties` with `runtime` writes for a unit that
/// has a unit file (systemd's runtime "control" directory; a transient unit's go with it).
pub fn runtime_control_dir(manager: Manager, unit: &str) -> PathBuf {
    let dir = match manager {
        Manager::System => PathBuf::from("/run/systemd/system.control"),
        Manager::User => user_runtime_dir().join("systemd/user.control"),
    };
    dir.join(format!("{unit}.d"))
}

/// A property as zvariant wants it.
pub fn to_value(property: &DbusProperty) -> Value<'static> {
    match &property.value {
        DbusValue::U64(v) => Value::from(*v),
        DbusValue::I32(v) => Value::from(*v),
        DbusValue::U32(v) => Value::from(*v),
        DbusValue::Bool(v) => Value::from(*v),
        DbusValue::Str(v) => Value::from(v.clone()),
        DbusValue::StrList(v) => Value::from(v.clone()),
        DbusValue::Bytes(v) => Value::from(v.clone()),
        DbusValue::U32List(v) => Value::from(v.clone()),
        DbusValue::PathNumbers(v) => Value::from(v.clone()),
        DbusValue::PathStrings(v) => Value::from(v.clone()),
        DbusValue::Commands(v) => Value::from(v.clone()),
        DbusValue::ExitStatuses(codes, signals) => {
            Value::Structure((codes.clone(), signals.clone()).into())
        }
        DbusValue::FlagStrings(flag, v) => Value::from((*flag, v.clone())),
        DbusValue::FlagString(flag, v) => Value::from((*flag, v.clone())),
    }
}

/// Makes a `h` file-descriptor value for `--pipe`.
pub fn fd_value(fd: std::os::fd::BorrowedFd<'_>) -> Value<'_> {
    Value::from(zvariant::Fd::from(fd))
}

/// A call the manager answered with an error, or that the connection lost.
#[derive(Debug)]
pub struct CallFailed {
    /// The D-Bus error name; empty when the connection failed.
    pub name: String,
    pub message: String,
}

impl From<zbus::Error> for CallFailed {
    fn from(err: zbus::Error) -> CallFailed {
        match err {
            zbus::Error::MethodError(name, message, _) => CallFailed {
                name: name.to_string(),
                message: message.unwrap_or_default(),
            },
            other => CallFailed {
                name: String::new(),
                message: other.to_string(),
            },
        }
    }
}

impl From<std::io::Error> for CallFailed {
    fn from(err: std::io::Error) -> CallFailed {
        CallFailed::from(zbus::Error::from(err))
    }
}

impl From<zvariant::Error> for CallFailed {
    fn from(err: zvariant::Error) -> CallFailed {
        CallFailed::from(zbus::Error::from(err))
    }
}

/// What systemd said when a call failed, as far as a caller can act on it.
pub enum Refusal {
    /// A leftover unit of that name (usually a failed one).
    UnitExists,
    /// No unit of that name is loaded.
    NoSuchUnit,
    /// "Cannot set property X, or unknown property.": this manager lacks X.
    UnknownProperty(String),
    Other,
}

impl CallFailed {
    pub fn refusal(&self) -> Refusal {
        match self.name.as_str() {
            "org.freedesktop.systemd1.UnitExists" => Refusal::UnitExists,
            "org.freedesktop.systemd1.NoSuchUnit" => Refusal::NoSuchUnit,
            "org.freedesktop.DBus.Error.PropertyReadOnly"
            | "org.freedesktop.DBus.Error.InvalidArgs" => {
                match self.message.strip_prefix("Cannot set property ") {
                    Some(rest) => Refusal::UnknownProperty(
                        rest.split([',', ' ']).next().unwrap_or_default().to_owned(),
                    ),
                    None => Refusal::Other,
                }
            }
            _ => Refusal::Other,
        }
    }

    /// The error of a command that was doing `what` when the call failed.
    pub fn during(self, what: impl Into<String>) -> Error {
        Error::Call {
            what: what.into(),
            name: self.name,
            message: self.message,
        }
    }
}

/// The major version in the manager's `Version` property.
fn version_number(text: &str) -> Result<u32, CallFailed> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| CallFailed {
        name: String::new(),
        message: format!("the manager reports an unreadable version {text:?}"),
    })
}
