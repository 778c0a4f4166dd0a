//! The connection: opened with the handshake, Hello, the JobRemoved subscription and the
//! Version read in one write, so that a caller can read its bundle while the manager answers.

use std::collections::VecDeque;
use std::io::Write;
use std::num::NonZeroU32;
use std::sync::Arc;

use zbus::Message;
use zbus::message::Type;

use super::manager::{self, MANAGER, MANAGER_PATH, SERVICE};
use super::wire::{self, Inbox, Via, Wire};
use super::{CallFailed, version_number};
use crate::error::Error;
use crate::target::Manager;

/// A manager ready for calls: connected, receiving JobRemoved (subscribed before any job is
/// queued, so no result can be missed) and with its version known.
pub struct Bus {
    pub(super) wire: Arc<Wire>,
    pub(super) via: Via,
    inbox: Inbox,
    /// Signals that came while waiting for a reply, oldest first.
    pub(super) signals: VecDeque<Message>,
    pub manager: Manager,
    /// The major version of the manager's systemd.
    pub version: u32,
}

/// A connection whose handshake and first calls are on their way: the caller does other work
/// (reading the bundle) while the manager answers, then [`Opening::finish`]es.
pub struct Opening {
    bus: Bus,
    version: NonZeroU32,
}

impl Opening {
    pub fn start(manager: Manager, via: Via) -> Result<Opening, Error> {
        let unreachable = |err: std::io::Error| Error::Unreachable {
            manager,
            cause: err.to_string(),
        };
        let (socket, via) = wire::connect(manager, via).map_err(unreachable)?;
        let wire = Arc::new(Wire::new(socket));
        // The handshake, pipelined as sd-bus does: the bus reads the messages after BEGIN.
        let uid = rustix::process::getuid().as_raw().to_string();
        let hex = crate::bundle::hex(uid.as_bytes());
        let handshake = format!("\0AUTH EXTERNAL {hex}\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n");
        let messages = (|| -> zbus::Result<Vec<Message>> {
            let mut messages = Vec::new();
            if via == Via::Bus {
                messages.push(manager::bus_call("Hello", &())?);
                // On the bus the manager sends the signal only to those who ask for it; on
                // its own socket to everyone.
                messages.push(manager::add_match(&format!(
                    "type='signal',sender='{SERVICE}',path='{MANAGER_PATH}',interface='{MANAGER}',member='JobRemoved'"
                ))?);
            }
            messages.push(manager::get(MANAGER_PATH, MANAGER, "Version")?);
            Ok(messages)
        })()
        .map_err(|err| CallFailed::from(err).during("connecting to the manager"))?;
        let mut bytes = handshake.into_bytes();
        for message in &messages {
            bytes.extend_from_slice(message.data().bytes());
        }
        (&wire.socket).write_all(&bytes).map_err(unreachable)?;
        let version = messages
            .last()
            .map(|m| m.primary_header().serial_num())
            .ok_or_else(|| Error::Unreachable {
                manager,
                cause: "nothing to send".into(),
            })?;
        Ok(Opening {
            bus: Bus {
                wire,
                via,
                inbox: Inbox::default(),
                signals: VecDeque::new(),
                manager,
                version: 0,
            },
            version,
        })
    }

    /// Waits for the manager's answers: the handshake, then every reply up to the version.
    pub fn finish(self) -> Result<Bus, Error> {
        let mut bus = self.bus;
        let manager = bus.manager;
        bus.inbox
            .handshake(&bus.wire.socket)
            .map_err(|err| Error::Unreachable {
                manager,
                cause: err.to_string(),
            })?;
        let version = bus
            .reply(self.version)
            .and_then(|reply| manager::variant::<String>(&reply))
            .and_then(|text| version_number(&text))
            .map_err(|err| err.during("reading the manager's Version"))?;
        bus.version = version;
        Ok(bus)
    }
}

impl Bus {
    pub fn open(manager: Manager, via: Via) -> Result<Bus, Error> {
        Opening::start(manager, via)?.finish()
    }

    /// The manager's version, if this systemd is one ociunit supports.
    pub fn supported(&self) -> Result<u32, Error> {
        crate::target::supported(self.version).map_err(|why| Error::Unsupported {
            manager: self.manager,
            why,
        })
    }

    pub(super) fn call(&mut self, message: &Message) -> Result<Message, CallFailed> {
        let serial = self.wire.send(message)?;
        self.reply(serial)
    }

    /// Sends every call in one go, then reads their answers in order: one round trip for
    /// calls whose answers do not depend on each other.
    pub(super) fn pipelined(&mut self, calls: &[Message]) -> Vec<Result<Message, CallFailed>> {
        let serials: Vec<std::io::Result<NonZeroU32>> =
            calls.iter().map(|call| self.wire.send(call)).collect();
        serials
            .into_iter()
            .map(|serial| self.reply(serial?))
            .collect()
    }

    /// The reply to `serial`; signals met on the way are kept, other replies dropped.
    pub(super) fn reply(&mut self, serial: NonZeroU32) -> Result<Message, CallFailed> {
        loop {
            let message = self.receive()?;
            let header = message.header();
            match message.message_type() {
                Type::Signal => {
                    drop(header);
                    self.signals.push_back(message);
                }
                Type::MethodReturn if header.reply_serial() == Some(serial) => {
                    drop(header);
                    return Ok(message);
                }
                Type::Error if header.reply_serial() == Some(serial) => {
                    drop(header);
                    return Err(CallFailed::from(zbus::Error::from(message)));
                }
                _ => {}
            }
        }
    }

    /// The next signal: one kept while waiting for a reply, else the next off the socket.
    pub(super) fn next_signal(&mut self) -> zbus::Result<Message> {
        loop {
            if let Some(signal) = self.signals.pop_front() {
                return Ok(signal);
            }
            let message = self.receive()?;
            if message.message_type() == Type::Signal {
                return Ok(message);
            }
        }
    }

    fn receive(&mut self) -> zbus::Result<Message> {
        self.inbox.receive(&self.wire.socket)
    }

    /// A connection over `socket` that speaks without a handshake, for tests that play the
    /// manager's side.
    #[cfg(test)]
    pub(super) fn over(socket: std::os::unix::net::UnixStream) -> Bus {
        Bus {
            wire: Arc::new(Wire::new(socket)),
            via: Via::Bus,
            inbox: Inbox::default(),
            signals: VecDeque::new(),
            manager: Manager::User,
            version: 257,
        }
    }

    /// Sends `message` as is (the manager's side of a test).
    #[cfg(test)]
    pub(super) fn send_raw(&self, message: &Message) {
        self.wire.send(message).unwrap();
    }

    #[cfg(test)]
    pub(super) fn receive_raw(&mut self) -> Message {
        self.receive().unwrap()
    }
}
