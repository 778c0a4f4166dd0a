//! Talking to a systemd manager over D-Bus (zbus): which bus, the calls install, status, list
//! and uninstall make, the values and errors `ociunit run` and `apply` share with them (their
//! own connection is `run::bus`), and errors turned into one line with the likely fix.

use std::collections::HashMap;
use std::path::PathBuf;

use zbus::blocking::Connection;
use zbus::zvariant::{self, OwnedObjectPath, OwnedValue, Value};

use crate::error::Error;
use crate::plan::property::{DbusProperty, DbusValue};
use crate::target::Manager;

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1",
    gen_async = false,
    blocking_name = "ManagerProxy"
)]
pub trait Systemd {
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;

    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    fn reload(&self) -> zbus::Result<()>;

    fn set_unit_properties(
        &self,
        name: &str,
        runtime: bool,
        properties: Vec<(&str, Value<'_>)>,
    ) -> zbus::Result<()>;

    fn enable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
        force: bool,
    ) -> zbus::Result<(bool, Vec<UnitFileChange>)>;

    fn disable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
    ) -> zbus::Result<Vec<UnitFileChange>>;
}

/// One change `EnableUnitFiles`/`DisableUnitFiles` made: (kind, link, target).
pub type UnitFileChange = (String, String, String);

/// Connects to the manager's bus: the system bus, or the user's own (`$DBUS_SESSION_BUS_ADDRESS`,
/// else `$XDG_RUNTIME_DIR/bus`, which is where systemd's user manager listens).
pub fn connect(manager: Manager) -> Result<Connection, Error> {
    let result = match manager {
        Manager::System => Connection::system(),
        Manager::User if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() => {
            Connection::session()
        }
        Manager::User => {
            let address = format!("unix:path={}", user_runtime_dir().join("bus").display());
            zbus::blocking::connection::Builder::address(address.as_str()).and_then(|b| b.build())
        }
    };
    result.map_err(|err| unreachable(manager, &err))
}

/// Where the user's manager keeps its sockets and runtime state.
pub fn user_runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(format!("/run/user/{}", rustix::process::getuid().as_raw()))
        })
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

/// The manager could not be reached: why, and the likely fix.
pub fn unreachable(manager: Manager, err: &dyn std::fmt::Display) -> Error {
    match manager {
        Manager::User => Error::Host(format!(
            "cannot reach your user manager's bus ({err}): install dbus-user-session, and for \
             a session without a login enable lingering (loginctl enable-linger $USER)"
        )),
        Manager::System => Error::Host(format!(
            "cannot reach the system bus ({err}): is systemd the init system and dbus running?"
        )),
    }
}

/// The manager's proxy, without zbus's property cache: filling it would fetch every Manager
/// property (GetAll) on the first read.
pub fn proxy(connection: &Connection) -> Result<ManagerProxy<'static>, Error> {
    zbus::blocking::proxy::Builder::new(connection)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .map_err(|err| call_error("connecting to the manager", &err))
}

/// The major version in the manager's `Version` property.
pub fn version_number(text: &str) -> Result<u32, Error> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| {
        Error::Host(format!(
            "the manager reports an unreadable version {text:?}"
        ))
    })
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

/// What systemd said when a call failed, as far as `run` can act on it.
pub enum Refusal {
    /// A leftover unit of that name (usually a failed one).
    UnitExists,
    /// "Cannot set property X, or unknown property.": this manager lacks X.
    UnknownProperty(String),
    Other,
}

pub fn refusal(err: &zbus::Error) -> Refusal {
    let zbus::Error::MethodError(name, message, _) = err else {
        return Refusal::Other;
    };
    let message = message.as_deref().unwrap_or_default();
    match name.as_str() {
        "org.freedesktop.systemd1.UnitExists" => Refusal::UnitExists,
        "org.freedesktop.DBus.Error.PropertyReadOnly"
        | "org.freedesktop.DBus.Error.InvalidArgs" => {
            match message.strip_prefix("Cannot set property ") {
                Some(rest) => Refusal::UnknownProperty(
                    rest.split([',', ' ']).next().unwrap_or_default().to_owned(),
                ),
                None => Refusal::Other,
            }
        }
        _ => Refusal::Other,
    }
}

/// One line for a failed call, with the likely fix.
pub fn call_error(what: &str, err: &zbus::Error) -> Error {
    let hint = match err {
        zbus::Error::MethodError(name, _, _) => match name.as_str() {
            "org.freedesktop.DBus.Error.AccessDenied"
            | "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" => {
                ": permission denied — use --user for your own manager, or run as root for --system"
            }
            "org.freedesktop.DBus.Error.PropertyReadOnly" => {
                ": this systemd does not know that property"
            }
            _ => "",
        },
        _ => "",
    };
    Error::Host(format!("{what}: {err}{hint}"))
}

/// Makes a `h` file-descriptor value for `--pipe`.
pub fn fd_value(fd: std::os::fd::BorrowedFd<'_>) -> Value<'_> {
    Value::from(zvariant::Fd::from(fd))
}

/// The manager's JobRemoved signals, subscribed with one AddMatch: zbus's own signal stream
/// would also look up and watch the name's owner, two more round trips on the way to every
/// start, which `run --scope` cannot afford.
pub fn jobs(connection: &Connection) -> Result<zbus::blocking::MessageIterator, Error> {
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender("org.freedesktop.systemd1")
        .and_then(|b| b.path("/org/freedesktop/systemd1"))
        .and_then(|b| b.interface("org.freedesktop.systemd1.Manager"))
        .and_then(|b| b.member("JobRemoved"))
        .map(|b| b.build());
    rule.and_then(|rule| zbus::blocking::MessageIterator::for_match_rule(rule, connection, None))
        .map_err(|err| call_error("subscribing to JobRemoved", &err))
}

/// Waits for `job`'s JobRemoved signal on `jobs` (subscribed before the job was queued, so
/// the signal cannot be missed) and returns its result: "done" is success.
pub fn job_result(
    jobs: &mut zbus::blocking::MessageIterator,
    job: &OwnedObjectPath,
) -> Option<String> {
    jobs.find_map(|message| {
        let body = message.ok()?.body();
        let (_, removed, _, result): (u32, OwnedObjectPath, String, String) =
            body.deserialize().ok()?;
        (removed == *job).then_some(result)
    })
}

/// One interface of a unit object as it is now, read in one `GetAll`: status and apply look at
/// a dozen properties, and a `Get` each would be a dozen round trips. Read it again after a
/// change; it is never a cache.
pub struct Snapshot(HashMap<String, OwnedValue>);

/// The interfaces of a unit object that [`Snapshot::read`] reads.
pub const UNIT: &str = "org.freedesktop.systemd1.Unit";
pub const SERVICE: &str = "org.freedesktop.systemd1.Service";

impl From<HashMap<String, OwnedValue>> for Snapshot {
    fn from(properties: HashMap<String, OwnedValue>) -> Snapshot {
        Snapshot(properties)
    }
}

impl Snapshot {
    pub fn read(
        connection: &Connection,
        path: &OwnedObjectPath,
        interface: &'static str,
    ) -> zbus::Result<Snapshot> {
        let reply = connection.call_method(
            Some("org.freedesktop.systemd1"),
            path.as_str(),
            Some("org.freedesktop.DBus.Properties"),
            "GetAll",
            &(interface,),
        )?;
        Ok(Snapshot(reply.body().deserialize()?))
    }

    /// The property, if the interface has it with that type.
    pub fn get<T>(&self, name: &str) -> Option<T>
    where
        T: TryFrom<OwnedValue>,
    {
        T::try_from(self.0.get(name)?.try_clone().ok()?).ok()
    }
}
