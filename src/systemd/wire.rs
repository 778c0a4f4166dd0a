//! The socket under [`super::Bus`]: which one reaches the manager, the SASL handshake, and
//! whole D-Bus messages in and out. zbus only marshals; nothing here starts a thread.

#![warn(clippy::indexing_slicing)]

use std::io::{IoSlice, Read};
use std::num::NonZeroU32;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Mutex;

use zbus::Message;
use zbus::zvariant::Endian;
use zbus::zvariant::serialized::{Context, Data};

use super::user_runtime_dir;
use crate::target::Manager;

/// Which socket reaches the manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The manager's own socket (`$XDG_RUNTIME_DIR/systemd/private`, `/run/systemd/private`),
    /// else the bus: one hop less for every message, as `systemctl` and `systemd-run` do
    /// where they need nothing from the bus itself.
    Private,
    /// The bus, for a unit that holds a reference on this client (`AddRef`), which the
    /// manager keeps only for a client with a name on the bus.
    Bus,
}

/// The writing half, shared with the thread that stops the unit on Ctrl-C.
pub(super) struct Wire {
    pub(super) socket: UnixStream,
    sending: Mutex<()>,
}

impl Wire {
    pub(super) fn new(socket: UnixStream) -> Wire {
        Wire {
            socket,
            sending: Mutex::new(()),
        }
    }

    /// Sends one message (with its file descriptors) in one sendmsg, whole.
    pub(super) fn send(&self, message: &Message) -> std::io::Result<NonZeroU32> {
        let data = message.data();
        let fds: Vec<BorrowedFd> = data.fds().iter().map(|fd| fd.as_fd()).collect();
        let _whole = self
            .sending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut bytes = data.bytes();
        let mut space = vec![std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
        let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() && !control.push(rustix::net::SendAncillaryMessage::ScmRights(&fds)) {
            return Err(std::io::Error::other(
                "too many file descriptors for one message",
            ));
        }
        while !bytes.is_empty() {
            let sent = rustix::net::sendmsg(
                &self.socket,
                &[IoSlice::new(bytes)],
                &mut control,
                rustix::net::SendFlags::NOSIGNAL,
            )?;
            bytes = bytes.get(sent..).unwrap_or_default();
            control.clear();
        }
        Ok(message.primary_header().serial_num())
    }
}

/// The reading half: bytes received and not yet a whole message.
#[derive(Default)]
pub(super) struct Inbox {
    received: Vec<u8>,
}

impl Inbox {
    /// The server's lines up to AGREE_UNIX_FD (or its refusal), before any message.
    pub(super) fn handshake(&mut self, socket: &UnixStream) -> std::io::Result<()> {
        for expected in ["OK ", "AGREE_UNIX_FD"] {
            let line = loop {
                if let Some(end) = self.received.windows(2).position(|w| w == b"\r\n") {
                    let line: Vec<u8> = self.received.drain(..end + 2).take(end).collect();
                    break String::from_utf8_lossy(&line).into_owned();
                }
                self.fill(socket)?;
            };
            if !line.starts_with(expected) {
                return Err(std::io::Error::other(format!(
                    "the bus refused the authentication: {line}"
                )));
            }
        }
        Ok(())
    }

    /// One whole message off the socket.
    pub(super) fn receive(&mut self, socket: &UnixStream) -> zbus::Result<Message> {
        loop {
            if let Some(length) = message_length(&self.received)? {
                if self.received.len() >= length {
                    let rest = self.received.split_off(length);
                    let mut bytes = std::mem::replace(&mut self.received, rest);
                    unique_sender(&mut bytes);
                    let endian = match bytes.first() {
                        Some(b'B') => Endian::Big,
                        _ => Endian::Little,
                    };
                    // SAFETY: from_bytes checks the encoding as it parses; it is unsafe only
                    // for the file descriptors a message may carry, and none is taken here.
                    return unsafe {
                        Message::from_bytes(Data::new(bytes, Context::new_dbus(endian, 0)))
                    };
                }
            }
            self.fill(socket)?;
        }
    }

    fn fill(&mut self, mut socket: &UnixStream) -> std::io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let read = socket.read(&mut chunk)?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.received
            .extend_from_slice(chunk.get(..read).unwrap_or_default());
        Ok(())
    }
}

/// A message's byte order and one of its header's 32-bit words.
fn header_word(bytes: &[u8], at: usize) -> Option<usize> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    match bytes.first()? {
        b'l' => Some(u32::from_le_bytes(raw) as usize),
        b'B' => Some(u32::from_be_bytes(raw) as usize),
        _ => None,
    }
}

/// The length of the message at the start of `bytes`, once its fixed header is in.
fn message_length(bytes: &[u8]) -> zbus::Result<Option<usize>> {
    if bytes.len() < 16 {
        return Ok(None);
    }
    let word = |at| header_word(bytes, at).ok_or(zbus::Error::IncorrectEndian);
    let (body, fields) = (word(4)?, word(12)?);
    Ok(Some(16 + fields.next_multiple_of(8) + body))
}

/// On its own socket the manager names itself as the sender by its well-known name,
/// `org.freedesktop.systemd1`, where zbus's header cache holds only a unique name (":1.5") and
/// panics on reading it back. Nothing here reads the sender: its first byte becomes ':', which
/// makes it a unique name of the same length.
fn unique_sender(message: &mut [u8]) {
    let Some(fields) = header_word(message, 12) else {
        return;
    };
    let end = (16 + fields).min(message.len());
    let mut at = 16;
    while at + 2 < end {
        let (Some(&code), Some(&signature_length)) = (message.get(at), message.get(at + 1)) else {
            return;
        };
        let signature_length = signature_length as usize;
        let signature = message
            .get(at + 2..at + 2 + signature_length)
            .unwrap_or_default();
        at += 3 + signature_length;
        let value_length = match signature {
            b"s" | b"o" => {
                at = at.next_multiple_of(4);
                let Some(length) = header_word(message, at) else {
                    return;
                };
                if code == 7 && length > 0 {
                    if let Some(first) = message.get_mut(at + 4) {
                        *first = b':';
                    }
                }
                4 + length + 1
            }
            b"g" => message.get(at).map_or(0, |l| *l as usize) + 2,
            b"u" => {
                at = at.next_multiple_of(4);
                4
            }
            _ => return,
        };
        at = (at + value_length).next_multiple_of(8);
    }
}

/// The socket and which one it is: the manager's own when asked for and there, else the bus
/// (`$DBUS_SYSTEM_BUS_ADDRESS`, `$DBUS_SESSION_BUS_ADDRESS`, else where systemd puts them).
pub(super) fn connect(manager: Manager, via: Via) -> std::io::Result<(UnixStream, Via)> {
    if via == Via::Private {
        let private = match manager {
            Manager::System => PathBuf::from("/run/systemd/private"),
            Manager::User => user_runtime_dir().join("systemd/private"),
        };
        if let Ok(socket) = UnixStream::connect(private) {
            return Ok((socket, Via::Private));
        }
    }
    let address = match manager {
        Manager::System => std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
            .unwrap_or_else(|_| "unix:path=/run/dbus/system_bus_socket".to_owned()),
        Manager::User => std::env::var("DBUS_SESSION_BUS_ADDRESS")
            .unwrap_or_else(|_| format!("unix:path={}", user_runtime_dir().join("bus").display())),
    };
    let mut last = std::io::Error::other(format!("no unix socket in the address {address:?}"));
    for entry in address.split(';') {
        match unix_socket(entry) {
            Some(Ok(socket)) => return Ok((socket, Via::Bus)),
            Some(Err(err)) => last = err,
            None => {}
        }
    }
    Err(last)
}

/// Connects to a `unix:path=…` or `unix:abstract=…` address entry; None for other transports.
fn unix_socket(entry: &str) -> Option<std::io::Result<UnixStream>> {
    let keys = entry.strip_prefix("unix:")?;
    keys.split(',').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        let value = unescape(value);
        match key {
            "path" => Some(UnixStream::connect(value)),
            "abstract" => Some(
                <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(value.as_bytes())
                    .and_then(|address| UnixStream::connect_addr(&address)),
            ),
            _ => None,
        }
    })
}

/// A D-Bus address value with its `%xx` escapes decoded.
fn unescape(value: &str) -> String {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        let escaped = tail
            .get(..2)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let (b'%', Some(byte)) = (first, escaped) {
            bytes.push(byte);
            rest = tail.get(2..).unwrap_or_default();
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests may index")]
mod tests {
    use super::*;

    #[test]
    fn address_values_are_unescaped() {
        assert_eq!(unescape("/run/user/1000/bus"), "/run/user/1000/bus");
        assert_eq!(unescape("/tmp/a%20b%2c"), "/tmp/a b,");
        assert_eq!(unescape("%zz%4"), "%zz%4");
    }

    #[test]
    fn the_managers_well_known_sender_name_reads_back_as_a_unique_one() {
        let reply = Message::method_call("/org/freedesktop/systemd1", "Version")
            .unwrap()
            .sender(":1.234567890123456789012")
            .unwrap()
            .build(&())
            .unwrap();
        // The same message as the manager sends it, with its well-known name.
        let mut bytes = reply.data().bytes().to_vec();
        let at = bytes
            .windows(24)
            .position(|w| w == b":1.234567890123456789012")
            .unwrap();
        bytes[at..at + 24].copy_from_slice(b"org.freedesktop.systemd1");
        unique_sender(&mut bytes);
        let data = Data::new(bytes, Context::new_dbus(Endian::Little, 0));
        let parsed = unsafe { Message::from_bytes(data) }.unwrap();
        let header = parsed.header();
        assert_eq!(
            header.sender().unwrap().as_str(),
            ":rg.freedesktop.systemd1"
        );
        assert_eq!(header.member().unwrap().as_str(), "Version");
    }

    #[test]
    fn a_message_is_as_long_as_its_header_says() {
        let call = Message::method_call("/org/freedesktop/systemd1", "Version")
            .unwrap()
            .build(&())
            .unwrap();
        let bytes = call.data().bytes();
        assert_eq!(message_length(&bytes[..15]).unwrap(), None);
        assert_eq!(message_length(bytes).unwrap(), Some(bytes.len()));
    }
}
