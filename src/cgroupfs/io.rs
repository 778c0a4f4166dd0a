//! File I/O in a cgroup, relative to an open directory.
//!
//! Everything is opened relative to directory file descriptors with `O_NOFOLLOW` and without
//! `O_CREAT`: the delegated subtree is writable by the unit (and, under a user manager, by the
//! user), so anything in it may have been replaced by a symlink or a stray file, and neither the
//! launcher nor `ociunit apply` may follow one out of the subtree or create files the kernel did
//! not.

#![warn(clippy::indexing_slicing)]

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::delegation::not_writable_fix;
use super::error::CgroupError;

/// Opens the cgroup directory `path` itself, the one place a path is followed: it comes from
/// procfs or from systemd, not from the subtree.
pub fn open_dir(path: &Path, what: &str) -> Result<OwnedFd, CgroupError> {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| CgroupError::Sys {
        what: format!("cannot open {what} {}", path.display()),
        errno,
        fix: None,
    })
}

/// Opens the child cgroup `name` of `parent` (at `parent_path`, for messages), creating it first
/// if `create`; never through a symlink.
pub fn open_child(
    parent: &OwnedFd,
    parent_path: &Path,
    name: &str,
    create: bool,
) -> Result<OwnedFd, CgroupError> {
    let path = parent_path.join(name);
    if create {
        match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => {
                return Err(CgroupError::Sys {
                    what: format!("cannot create the leaf cgroup {}", path.display()),
                    errno,
                    fix: not_writable_fix(errno),
                });
            }
        }
    }
    rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| CgroupError::Sys {
        what: format!("cannot open the leaf cgroup {}", path.display()),
        errno,
        fix: match errno {
            Errno::LOOP | Errno::NOTDIR => {
                Some("it is a symlink or not a directory; refusing to use it".to_owned())
            }
            _ => None,
        },
    })
}

/// Files such as `io.max` and `rdma.max` take one entry per write(2), so a multi-line value is
/// written line by line; empty lines carry nothing.
pub fn lines(value: &str) -> impl Iterator<Item = &str> {
    value.split('\n').filter(|line| !line.is_empty())
}

pub fn open_for_write(dir: impl AsFd, name: &str) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

pub fn write_all(fd: impl AsFd, text: &str) -> Result<(), Errno> {
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        let written = rustix::io::write(&fd, bytes)?;
        bytes = bytes.get(written..).unwrap_or_default();
    }
    Ok(())
}

pub fn write_at(dir: impl AsFd, name: &str, text: &str) -> Result<(), Errno> {
    write_all(open_for_write(dir, name)?, text)
}

pub fn read_at(dir: impl AsFd, name: &str) -> Result<String, Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut text = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut text)
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_values_split_into_non_empty_lines() {
        assert_eq!(lines("a b\nc\n\nd").collect::<Vec<_>>(), ["a b", "c", "d"]);
        assert_eq!(lines("max").collect::<Vec<_>>(), ["max"]);
        assert_eq!(lines("").count(), 0);
    }
}
