//! The files a command reads and writes, checked before anything is sent: no file written is one
//! read or another written, however the two paths are spelled (`o.csv`, `./o.csv`, an absolute
//! path, a symlink, a hard link, a file that does not exist yet), and every file written can be
//! written. Identity is the file system's, never the spelling's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// One path a command uses: the flag that named it, the path, and whether it is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Use<'a> {
    pub(crate) flag: &'static str,
    pub(crate) path: &'a Path,
    pub(crate) written: bool,
    /// Read, but must be no other file of the command either (`reconcile --previous`: the
    /// earlier output is neither the ledger nor this run's output).
    pub(crate) distinct: bool,
}

impl<'a> Use<'a> {
    /// A file the command reads.
    pub(crate) fn read(flag: &'static str, path: &'a Path) -> Self {
        Use {
            flag,
            path,
            written: false,
            distinct: false,
        }
    }

    /// A file the command reads that must be no other file it uses, read or written.
    pub(crate) fn read_distinct(flag: &'static str, path: &'a Path) -> Self {
        Use {
            distinct: true,
            ..Use::read(flag, path)
        }
    }

    /// A file the command writes.
    pub(crate) fn written(flag: &'static str, path: &'a Path) -> Self {
        Use {
            flag,
            path,
            written: true,
            distinct: false,
        }
    }
}

/// What makes a file that one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// An existing file: its device and inode (symlinks followed).
    #[cfg(unix)]
    Inode(u64, u64),
    /// A file not there yet: its folder's identity and its name.
    New(Box<Identity>, OsString),
    /// Where inodes are not available: the canonical path.
    #[cfg_attr(unix, allow(dead_code))]
    Canonical(PathBuf),
}

/// The most symlinks followed for a dangling one (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

/// The identity of the file `path` names, existing or not. A dangling symlink stands for its
/// target (writing through it would create the target).
fn identity(flag: &str, path: &Path) -> Result<Identity, CliError> {
    let mut path = path.to_owned();
    for _ in 0..MAX_LINKS {
        if let Ok(meta) = std::fs::metadata(&path) {
            return Ok(existing(&path, &meta));
        }
        match std::fs::read_link(&path) {
            // A dangling symlink: its target, relative to the link's folder.
            Ok(target) => {
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Err(_) => return new_file(flag, &path),
        }
    }
    Err(CliError::usage(format!(
        "{flag} {}: too many levels of symbolic links",
        path.display()
    )))
}

#[cfg(unix)]
fn existing(_path: &Path, meta: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::Inode(meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn existing(path: &Path, _meta: &std::fs::Metadata) -> Identity {
    Identity::Canonical(path.canonicalize().unwrap_or_else(|_| path.to_owned()))
}

/// A file that does not exist yet: its folder must exist (and be a folder).
fn new_file(flag: &str, path: &Path) -> Result<Identity, CliError> {
    let Some(name) = path.file_name() else {
        return Err(CliError::usage(format!(
            "{flag} {} names no file",
            path.display()
        )));
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(Identity::New(Box::new(existing(dir, &m)), name.to_owned())),
        Ok(_) => Err(CliError::usage(format!(
            "{flag} {}: {} is not a folder",
            path.display(),
            dir.display()
        ))),
        Err(_) => Err(CliError::usage(format!(
            "{flag} {}: the folder {} does not exist",
            path.display(),
            dir.display()
        ))),
    }
}

/// Refuses, before anything is read, written or sent: a file written that is also read or
/// written under another flag (however spelled), a folder given as a file, and a file to write
/// that cannot be written. Usage errors (exit 2).
pub(crate) fn check(uses: &[Use<'_>]) -> Result<(), CliError> {
    let mut seen: Vec<(Use<'_>, Identity)> = Vec::with_capacity(uses.len());
    for u in uses {
        let id = identity(u.flag, u.path)?;
        if let Some((other, _)) = seen.iter().find(|(other, other_id)| {
            (u.written || other.written || u.distinct || other.distinct) && *other_id == id
        }) {
            let why = if u.written || other.written {
                "refusing to overwrite it"
            } else {
                "they must be different files"
            };
            return Err(CliError::usage(format!(
                "{} {} and {} {} are the same file: {why}",
                other.flag,
                other.path.display(),
                u.flag,
                u.path.display()
            )));
        }
        if u.written {
            writable(u.flag, u.path, &id)?;
        }
        seen.push((*u, id));
    }
    Ok(())
}

/// A file to write must be one: not a folder, and open for writing (an existing file is opened
/// without truncating it; a new one is created and removed again).
fn writable(flag: &str, path: &Path, id: &Identity) -> Result<(), CliError> {
    let cannot = |e: std::io::Error| {
        CliError::usage(format!("{flag} {} cannot be written: {e}", path.display()))
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(CliError::usage(format!(
                "{flag} {} is a folder, not a file",
                path.display()
            )));
        }
        // A FIFO or a device is opened once, by the command itself: a probe would block on a
        // FIFO without a reader, or hand its reader an end of file before the results.
        Ok(m) if !m.is_file() => return Ok(()),
        _ => {}
    }
    if matches!(id, Identity::New(..)) {
        // Created to prove it can be, then removed: the command creates it for real later.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(cannot)?;
        std::fs::remove_file(path).map_err(cannot)?;
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(cannot)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("refund-paths-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn clash(a: &Path, b: &Path) -> bool {
        check(&[Use::written("--output", a), Use::written("--report", b)]).is_err()
    }

    #[test]
    fn one_file_however_spelled() {
        let d = dir("spelled");
        let o = d.0.join("o.csv");
        // Not there yet: same folder and name.
        assert!(clash(&o, &d.0.join(".").join("o.csv")));
        std::fs::create_dir(d.0.join("sub")).unwrap();
        assert!(clash(&o, &d.0.join("sub").join("..").join("o.csv")));
        assert!(!clash(&o, &d.0.join("r.html")));
        std::fs::write(&o, "x").unwrap();
        // There: same inode, by a symlink or a hard link too.
        #[cfg(unix)]
        {
            let link = d.0.join("olink.html");
            std::os::unix::fs::symlink(&o, &link).unwrap();
            assert!(clash(&o, &link));
            let hard = d.0.join("hard.html");
            std::fs::hard_link(&o, &hard).unwrap();
            assert!(clash(&o, &hard));
            // A dangling symlink stands for its target.
            let target = d.0.join("later.csv");
            let dangling = d.0.join("dangling.html");
            std::os::unix::fs::symlink("later.csv", &dangling).unwrap();
            assert!(clash(&target, &dangling));
        }
        // Two files read may be one; a file read and written may not.
        assert!(check(&[Use::read("--ledger", &o), Use::read("--config", &o)]).is_ok());
        assert!(check(&[Use::read("--ledger", &o), Use::written("--output", &o)]).is_err());
        assert_eq!(std::fs::read_to_string(&o).unwrap(), "x");
    }

    #[test]
    fn a_file_that_cannot_be_written_is_refused_and_nothing_is_left() {
        let d = dir("writable");
        let err = check(&[Use::written("--report", Path::new("/nonexistent/r.html"))]).unwrap_err();
        assert!(
            err.message().contains("does not exist"),
            "{}",
            err.message()
        );
        let err = check(&[Use::written("--report", &d.0)]).unwrap_err();
        assert!(err.message().contains("is a folder"), "{}", err.message());
        let new = d.0.join("new.html");
        check(&[Use::written("--report", &new)]).unwrap();
        assert!(!new.exists(), "the probe leaves nothing behind");
        let file = d.0.join("file");
        std::fs::write(&file, "x").unwrap();
        let err = check(&[Use::written("--report", &file.join("r.html"))]).unwrap_err();
        assert!(
            err.message().contains("is not a folder"),
            "{}",
            err.message()
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }

    /// A FIFO given as the output is opened once, by the command: the check never opens it (it
    /// would block without a reader, or end its reader's input before the results).
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_not_probed() {
        let d = dir("fifo");
        let fifo = d.0.join("out.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            // Returns at once (a probe would block here forever: no reader).
            check(&[Use::written("--output", &fifo)]).unwrap();
        }
    }
}
