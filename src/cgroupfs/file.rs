//! cgroup v2 interface-file names, as they travel from `config.json` (`unified` keys) through the
//! unit file to the launcher, and the writes into them.
//!
//! The same check runs on both sides: the compiler refuses a bad name with the JSON path, and the
//! launcher refuses it again because a unit file can be edited by hand. A name is a single path
//! component of the form `controller.file` (`memory.max`, `hugetlb.2MB.max`); anything that could
//! leave the cgroup directory (`/`, `..`) or take over the cgroup itself (the `cgroup.*` core
//! files: `cgroup.procs`, `cgroup.subtree_control`, …) is refused.

use std::fmt;

/// A validated interface-file name such as `memory.max`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct InterfaceFile(String);

/// Why a name is not an interface file we may write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnsafeName {
    Empty,
    Separator,
    ParentReference,
    CoreFile,
    NoController,
    BadCharacter(char),
}

impl fmt::Display for UnsafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsafeName::Empty => write!(f, "the name is empty"),
            UnsafeName::Separator => write!(f, "it contains '/', which would leave the cgroup"),
            UnsafeName::ParentReference => {
                write!(f, "it contains '..', which would leave the cgroup")
            }
            UnsafeName::CoreFile => {
                write!(
                    f,
                    "cgroup.* core files control membership and delegation, not limits"
                )
            }
            UnsafeName::NoController => {
                write!(f, "it is not of the form CONTROLLER.FILE (e.g. memory.max)")
            }
            UnsafeName::BadCharacter(c) => write!(f, "it contains the character {c:?}"),
        }
    }
}

impl InterfaceFile {
    pub fn parse(name: &str) -> Result<InterfaceFile, UnsafeName> {
        if name.is_empty() {
            return Err(UnsafeName::Empty);
        }
        if name.contains('/') {
            return Err(UnsafeName::Separator);
        }
        if name.contains("..") {
            return Err(UnsafeName::ParentReference);
        }
        if name.starts_with("cgroup.") {
            return Err(UnsafeName::CoreFile);
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '_'))
        {
            return Err(UnsafeName::BadCharacter(c));
        }
        match name.split_once('.') {
            Some((controller, file)) if !controller.is_empty() && !file.is_empty() => {
                Ok(InterfaceFile(name.to_owned()))
            }
            _ => Err(UnsafeName::NoController),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The controller that owns the file, which must be enabled in the parent's
    /// `cgroup.subtree_control` before the file exists in the leaf.
    pub fn controller(&self) -> &str {
        self.0.split_once('.').map_or(&self.0, |(c, _)| c)
    }
}

impl fmt::Display for InterfaceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One interface-file write in the leaf cgroup.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct CgroupWrite {
    pub file: InterfaceFile,
    pub value: String,
}

impl CgroupWrite {
    pub fn new(file: InterfaceFile, value: impl Into<String>) -> CgroupWrite {
        CgroupWrite {
            file,
            value: value.into(),
        }
    }
}

impl fmt::Display for CgroupWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.file, self.value)
    }
}

/// Whether `name` may name a leaf cgroup: one path component that cannot be mistaken for an
/// interface file (those all have a '.').
pub fn is_leaf_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    !name.is_empty() && name.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_interface_files() {
        for name in [
            "memory.max",
            "hugetlb.2MB.max",
            "cpu.max.burst",
            "io.bfq.weight",
        ] {
            assert_eq!(InterfaceFile::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(
            InterfaceFile::parse("hugetlb.1GB.rsvd.max")
                .unwrap()
                .controller(),
            "hugetlb"
        );
    }

    #[test]
    fn refuses_names_that_escape_or_take_over_the_cgroup() {
        assert_eq!(
            InterfaceFile::parse("../memory.max"),
            Err(UnsafeName::Separator)
        );
        assert_eq!(
            InterfaceFile::parse("memory..max"),
            Err(UnsafeName::ParentReference)
        );
        assert_eq!(
            InterfaceFile::parse("cgroup.procs"),
            Err(UnsafeName::CoreFile)
        );
        assert_eq!(
            InterfaceFile::parse("cgroup.subtree_control"),
            Err(UnsafeName::CoreFile)
        );
        assert_eq!(InterfaceFile::parse(""), Err(UnsafeName::Empty));
        assert_eq!(
            InterfaceFile::parse("memory"),
            Err(UnsafeName::NoController)
        );
        assert_eq!(InterfaceFile::parse(".max"), Err(UnsafeName::NoController));
        assert_eq!(
            InterfaceFile::parse("memory.max=1"),
            Err(UnsafeName::BadCharacter('='))
        );
        assert_eq!(
            InterfaceFile::parse("memory.max\n"),
            Err(UnsafeName::BadCharacter('\n'))
        );
    }
}
