//! Reading a file that may not be a file: `config.json` or a unit path can be a FIFO (reading
//! blocks forever), a device or a symlink to `/dev/zero` (reading never ends), or a device whose
//! mere opening does something (a watchdog starts ticking). ociunit reads only regular files,
//! up to [`MAX_SIZE`].

#![warn(clippy::indexing_slicing)]

use std::fmt;
use std::io::Read;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

/// The most ociunit reads of one file: 16 MiB, hundreds of times a large real `config.json`, and
/// room for 100 000 device rules. A larger file is refused, not read.
pub const MAX_SIZE: u64 = 16 << 20;

/// Whether a symlink at the path is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    Follow,
    /// A symlink is refused, for paths that are replaced: renaming over a link replaces the
    /// link, not its target.
    Refuse,
}

/// Why a file was not read.
#[derive(Debug)]
pub enum NotRead {
    Io(std::io::Error),
    Symlink,
    /// Not a regular file: what it is.
    Kind(&'static str),
    TooLarge,
}

impl NotRead {
    pub fn is_missing(&self) -> bool {
        matches!(self, NotRead::Io(err) if err.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for NotRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotRead::Io(err) => write!(f, "{err}"),
            NotRead::Symlink => f.write_str("a symbolic link, which ociunit does not follow here"),
            NotRead::Kind(kind) => write!(f, "{kind}, not a regular file"),
            NotRead::TooLarge => write!(
                f,
                "larger than {} MiB, the most ociunit reads",
                MAX_SIZE >> 20
            ),
        }
    }
}

fn errno(errno: Errno) -> NotRead {
    NotRead::Io(std::io::Error::from(errno))
}

fn regular(mode: u32) -> Result<(), NotRead> {
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => Ok(()),
        FileType::Symlink => Err(NotRead::Symlink),
        FileType::Directory => Err(NotRead::Kind("a directory")),
        FileType::Fifo => Err(NotRead::Kind("a FIFO")),
        FileType::Socket => Err(NotRead::Kind("a socket")),
        FileType::CharacterDevice => Err(NotRead::Kind("a character device")),
        FileType::BlockDevice => Err(NotRead::Kind("a block device")),
        FileType::Unknown => Err(NotRead::Kind("of an unknown file type")),
    }
}

/// The contents of the regular file at `path`, at most [`MAX_SIZE`] bytes. The path is checked
/// before it is opened (so a device is never opened), and the opened file again (in case it was
/// replaced meanwhile); the open does not block on a FIFO nor take a terminal as the
/// controlling one.
pub fn read(path: &Path, links: Links) -> Result<Vec<u8>, NotRead> {
    let stat = match links {
        Links::Follow => rustix::fs::stat(path),
        Links::Refuse => rustix::fs::lstat(path),
    };
    regular(stat.map_err(errno)?.st_mode)?;
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    if links == Links::Refuse {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| match e {
        Errno::LOOP if links == Links::Refuse => NotRead::Symlink,
        e => errno(e),
    })?;
    let stat = rustix::fs::fstat(&fd).map_err(errno)?;
    regular(stat.st_mode)?;
    if u64::try_from(stat.st_size).unwrap_or(0) > MAX_SIZE {
        return Err(NotRead::TooLarge);
    }
    // Sized for the whole file, so that it is read in one go rather than in doubling chunks
    // (the generator reads every declared bundle's config at every daemon-reload).
    let mut bytes = Vec::with_capacity(usize::try_from(stat.st_size).unwrap_or(0));
    std::fs::File::from(fd)
        .take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(NotRead::Io)?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(NotRead::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, "{}").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read(&file, Links::Refuse).unwrap(), b"{}");
        assert_eq!(read(&link, Links::Follow).unwrap(), b"{}");
        assert!(matches!(read(&link, Links::Refuse), Err(NotRead::Symlink)));

        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = read(&fifo, Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "a FIFO, not a regular file");
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read(&zero, Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "a character device, not a regular file");
        let err = read(dir.path(), Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "a directory, not a regular file");
        let missing = read(&dir.path().join("missing"), Links::Follow).unwrap_err();
        assert!(missing.is_missing(), "{missing}");

        let large = std::fs::File::create(dir.path().join("large")).unwrap();
        large.set_len(MAX_SIZE + 1).unwrap();
        let err = read(&dir.path().join("large"), Links::Follow).unwrap_err();
        assert_eq!(
            err.to_string(),
            "larger than 16 MiB, the most ociunit reads"
        );
    }
}
