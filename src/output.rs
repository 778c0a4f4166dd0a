//! Writing files so that nothing is lost: a temporary file in the same directory, fsync, then
//! rename over the target, so a reader sees the old file or the new one, never half of either;
//! and a unit someone wrote or edited, or one generated from another bundle, is replaced only on
//! request, after a backup. What is not a regular file (a device, a FIFO, a symlink) is never
//! read nor replaced. Writers of units take turns on the directory's lock.

use std::fs::{self, File};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::plan::container::Container;
use crate::regular_file::{self, Links, NotRead};
use crate::unit_file::{self, Ownership};

/// What was at the path before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replaced {
    Nothing,
    /// An untouched unit ociunit generated.
    Generated,
    /// A unit ociunit did not write, or one edited since: kept at this path.
    BackedUp(PathBuf),
}

/// The backup of a replaced unit, beside it, where systemd does not load it.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".ociunit-backup");
    path.with_file_name(name)
}

/// The bytes of the unit file at `path`, `None` if there is none. Only a regular file is read,
/// and never through a symlink: replacing the unit would replace the link, not its target.
pub fn read_unit(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match regular_file::read(path, Links::Refuse) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(why) if why.is_missing() => Ok(None),
        Err(NotRead::Io(err)) => Err(Error::io("cannot read", path, err)),
        Err(why) => Err(Error::Conflict {
            path: path.to_owned(),
            why: format!("{why}; ociunit reads and replaces only regular unit files"),
        }),
    }
}

/// How long a writer waits for another one to finish with a unit directory before giving up:
/// an install takes well under a second, so a lock held this long is a stopped process.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// An exclusive lock on a directory units are written to, held from reading the unit there
/// to the manager's reload, so that two writers of one unit take turns: the second sees the
/// first one's unit (and refuses to replace it if it came from another bundle) rather than
/// both deciding on the old one and the last rename silently winning. It is the directory's
/// own `flock`, so a holder that dies leaves nothing behind.
pub struct DirLock {
    _held: OwnedFd,
}

pub fn lock_dir(dir: &Path) -> Result<DirLock, Error> {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|err| Error::io("cannot open", dir, err.into()))?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(DirLock { _held: fd }),
            Err(rustix::io::Errno::WOULDBLOCK) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(Error::Conflict {
                    path: dir.to_owned(),
                    why: format!(
                        "another ociunit has been writing a unit here for {} s; is it stopped?",
                        LOCK_WAIT.as_secs()
                    ),
                });
            }
            Err(err) => return Err(Error::io("cannot lock", dir, err.into())),
        }
    }
}

/// Writes a unit atomically, under `lock` on its directory. An existing unit that ociunit did not generate, that was edited
/// since, or that it generated from another bundle is refused unless `force`, and then first
/// copied to [`backup_path`]. Anything but a regular file at `path` is refused (see
/// [`read_unit`]). Temporary files that writers killed before their rename left beside the
/// unit or its backup are removed: under the lock no writer of them is alive.
pub fn write_unit(
    _lock: &DirLock,
    path: &Path,
    contents: &str,
    force: bool,
) -> Result<Replaced, Error> {
    remove_stale_temps(path);
    remove_stale_temps(&backup_path(path));
    let existing = read_unit(path)?;
    let source = |ownership: &Ownership| match ownership {
        Ownership::Generated(record) | Ownership::Edited(record) => Some(record.source.clone()),
        Ownership::Foreign => None,
    };
    let new_source = source(&unit_file::inspect(contents));
    let ownership = existing
        .as_deref()
        .map(|bytes| unit_file::inspect(&String::from_utf8_lossy(bytes)));
    let replaced = match ownership {
        None => Replaced::Nothing,
        Some(Ownership::Generated(record))
            if new_source.is_some_and(|new| same_file(&record.source, &new)) =>
        {
            Replaced::Generated
        }
        Some(ownership) if !force => {
            let why = match ownership {
                Ownership::Edited(_) => "was edited by hand since ociunit generated it".to_owned(),
                Ownership::Generated(record) => format!(
                    "was generated from another bundle ({})",
                    record.source.display()
                ),
                Ownership::Foreign => "was not generated by ociunit".to_owned(),
            };
            return Err(Error::Conflict {
                path: path.to_owned(),
                why: format!(
                    "{why}; refusing to replace it (--force replaces it and keeps a backup)"
                ),
            });
        }
        Some(_) => {
            let backup = backup_path(path);
            write_atomically(&backup, &existing.unwrap_or_default())?;
            Replaced::BackedUp(backup)
        }
    };
    write_atomically(path, contents.as_bytes())?;
    Ok(replaced)
}

/// Whether two recorded `Source=` paths name the same config: the same text, or the same file
/// (they are absolute but not canonical: `/a/../b/config.json` is `/b/config.json`).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || fs::canonicalize(a)
            .ok()
            .is_some_and(|a| fs::canonicalize(b).is_ok_and(|b| a == b))
}

/// The directory of `path` and the start of its temporary files' names (`.NAME.ociunit-`,
/// then the writer's PID and `.tmp`); hidden, and no unit name, so systemd never loads one.
fn temp_prefix(path: &Path) -> (&Path, String) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (dir, format!(".{name}.ociunit-"))
}

fn remove_stale_temps(path: &Path) {
    let (dir, prefix) = temp_prefix(path);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_temp = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if is_temp {
            let _ = fs::remove_file(entry.path());
        }
    }
}

pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let (dir, prefix) = temp_prefix(path);
    let temp = dir.join(format!("{prefix}{}.tmp", std::process::id()));
    let result = File::create(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    result.map_err(|err| {
        let _ = fs::remove_file(&temp);
        Error::io("cannot write", path, err)
    })
}

/// Writes a container's derived config, ociunit's own file, atomically, creating its directory;
/// returns its path.
pub fn write_runtime_config(container: &Container) -> Result<PathBuf, Error> {
    let dir = &container.config_dir;
    fs::create_dir_all(dir).map_err(|err| Error::io("cannot create", dir, err))?;
    let path = dir.join("config.json");
    write_atomically(&path, container.config_text().as_bytes())?;
    Ok(path)
}

/// Writes a file that is not there yet into a directory no one reads before its writer is
/// done: a generator's, which systemd empties before it runs the generators and reads once
/// they have exited. So no temporary file, fsync nor rename, a fifth of the generator's system
/// time. A file already there (in a directory someone filled by hand) is replaced by
/// [`write_atomically`]; one whose writing fails is removed.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let mut file = match File::options().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return write_atomically(path, contents);
        }
        Err(err) => return Err(Error::io("cannot write", path, err)),
    };
    file.write_all(contents).map_err(|err| {
        let _ = fs::remove_file(path);
        Error::io("cannot write", path, err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(body: &str) -> String {
        generated_from("/b/config.json", body)
    }

    fn generated_from(source: &str, body: &str) -> String {
        unit_file::seal(&format!(
            "[X-Ociunit]\nSource={source}\nUnitSha256=\n\n[Service]\n{body}\n"
        ))
    }

    /// `write_unit` under the lock of the file's directory, as every caller takes it.
    fn write_locked(path: &Path, text: &str, force: bool) -> Result<Replaced, Error> {
        write_unit(
            &lock_dir(path.parent().unwrap()).unwrap(),
            path,
            text,
            force,
        )
    }

    /// A file already there, or a link, is replaced as `write_atomically` replaces it: the
    /// link's target is left alone.
    #[test]
    fn write_new_creates_or_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.service");
        write_new(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_new(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let target = dir.path().join("target");
        fs::write(&target, "kept").unwrap();
        let link = dir.path().join("link.service");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_new(&link, b"three").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "kept");
        assert_eq!(fs::read(&link).unwrap(), b"three");
        assert!(!fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn replaces_untouched_generated_units() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.service");
        assert_eq!(
            write_locked(&path, &generated("A=1"), false).unwrap(),
            Replaced::Nothing
        );
        assert_eq!(
            write_locked(&path, &generated("A=2"), false).unwrap(),
            Replaced::Generated
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), generated("A=2"));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn keeps_what_the_user_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.service");
        let mine = "[Service]\nExecStart=/bin/mine\n";
        fs::write(&path, mine).unwrap();
        assert!(write_locked(&path, &generated("A=1"), false).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), mine);
        let edited = generated("A=1").replace("A=1", "A=hand-edited");
        fs::write(&path, &edited).unwrap();
        assert!(write_locked(&path, &generated("A=1"), false).is_err());
        let backup = backup_path(&path);
        assert_eq!(
            write_locked(&path, &generated("A=1"), true).unwrap(),
            Replaced::BackedUp(backup.clone())
        );
        assert_eq!(fs::read_to_string(&backup).unwrap(), edited);
        assert_eq!(fs::read_to_string(&path).unwrap(), generated("A=1"));
    }

    #[test]
    fn a_unit_from_another_bundle_is_not_ours_to_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.service");
        let theirs = generated_from("/other/config.json", "A=1");
        fs::write(&path, &theirs).unwrap();
        let err = write_locked(&path, &generated("A=1"), false).unwrap_err();
        assert!(
            err.to_string()
                .contains("generated from another bundle (/other/config.json)"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), theirs);
        let backup = backup_path(&path);
        assert_eq!(
            write_locked(&path, &generated("A=1"), true).unwrap(),
            Replaced::BackedUp(backup.clone())
        );
        assert_eq!(fs::read_to_string(&backup).unwrap(), theirs);
    }

    #[test]
    fn only_regular_files_are_read_or_replaced_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.service");
        fs::write(&target, generated("A=1")).unwrap();
        let link = dir.path().join("link.service");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let fifo = dir.path().join("fifo.service");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for (path, what) in [(&link, "a symbolic link"), (&fifo, "a FIFO")] {
            let err = write_unit(
                &lock_dir(dir.path()).unwrap(),
                path,
                &generated("A=2"),
                true,
            )
            .unwrap_err();
            assert!(err.to_string().contains(what), "{err}");
        }
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), generated("A=1"));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            3,
            "no backup, no temp"
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("x.service");
        let lock = lock_dir(dir.path()).unwrap();
        assert!(write_unit(&lock, &path, &generated("A=1"), false).is_err());
        assert!(!path.exists());
    }

    #[test]
    fn temporary_files_of_killed_writers_are_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.service");
        let stale = dir.path().join(".x.service.ociunit-4242.tmp");
        let stale_backup = dir.path().join(".x.service.ociunit-backup.ociunit-7.tmp");
        let other = dir.path().join(".y.service.ociunit-4242.tmp");
        let not_a_temp = dir.path().join(".x.service.ociunit-mine.tmp");
        for file in [&stale, &stale_backup, &other, &not_a_temp] {
            fs::write(file, "half").unwrap();
        }
        let lock = lock_dir(dir.path()).unwrap();
        write_unit(&lock, &path, &generated("A=1"), false).unwrap();
        assert!(!stale.exists() && !stale_backup.exists());
        assert!(
            other.exists() && not_a_temp.exists(),
            "only this unit's temps"
        );
    }

    #[test]
    fn writers_take_turns_on_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_dir(dir.path()).unwrap();
        let (taken, turn) = std::sync::mpsc::channel();
        let path = dir.path().to_owned();
        let second = std::thread::spawn(move || {
            let lock = lock_dir(&path);
            taken.send(()).unwrap();
            lock.map(drop)
        });
        assert!(
            turn.recv_timeout(Duration::from_millis(200)).is_err(),
            "the second writer waits"
        );
        drop(first);
        second.join().unwrap().unwrap();
    }
}
