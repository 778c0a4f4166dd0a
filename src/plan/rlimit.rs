//! The resources of setrlimit(2): one list that the OCI translation, the `Limit*=` property table,
//! and the launcher's `--rlimit` (both sides of it) read, so that they cannot disagree about
//! which resources exist or what they are called.

use serde::Serialize;

use super::property::{EXEC, PropertySpec};

macro_rules! resources {
    ($($variant:ident $name:literal),* $(,)?) => {
        /// A resource; the variants are named as rustix names them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Resource {
            $($variant),*
        }

        impl Resource {
            pub const ALL: [Resource; 16] = [$(Resource::$variant),*];

            /// The `RLIMIT_` suffix (`NOFILE`), as OCI's `process.rlimits` and `--rlimit` name
            /// the resource.
            pub fn name(self) -> &'static str {
                match self {
                    $(Resource::$variant => $name),*
                }
            }

            /// The resource as the launcher passes it to setrlimit(2).
            pub fn rustix(self) -> rustix::process::Resource {
                match self {
                    $(Resource::$variant => rustix::process::Resource::$variant),*
                }
            }

            /// Its `Limit*=` setting: the hard limit under the plain name, the soft one under
            /// `…Soft`.
            pub fn property(self) -> &'static PropertySpec {
                match self {
                    $(Resource::$variant => &PropertySpec {
                        key: concat!("Limit", $name),
                        dbus: &[
                            (concat!("Limit", $name), "t"),
                            (concat!("Limit", $name, "Soft"), "t"),
                        ],
                        ..EXEC
                    }),*
                }
            }
        }
    };
}

resources! {
    Cpu "CPU",
    Fsize "FSIZE",
    Data "DATA",
    Stack "STACK",
    Core "CORE",
    Rss "RSS",
    Nproc "NPROC",
    Nofile "NOFILE",
    Memlock "MEMLOCK",
    As "AS",
    Locks "LOCKS",
    Sigpending "SIGPENDING",
    Msgqueue "MSGQUEUE",
    Nice "NICE",
    Rtprio "RTPRIO",
    Rttime "RTTIME",
}

impl Resource {
    /// The resource whose `RLIMIT_` suffix is `name`.
    pub fn from_name(name: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The resource whose `Limit*=` setting has the unit-file key `key`.
    pub fn from_key(key: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.property().key == key)
    }
}

impl Serialize for Resource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_resources_agree() {
        for resource in Resource::ALL {
            assert_eq!(Resource::from_name(resource.name()), Some(resource));
            let key = resource.property().key;
            assert_eq!(key, format!("Limit{}", resource.name()));
            assert_eq!(Resource::from_key(key), Some(resource));
        }
        assert_eq!(Resource::Nofile.rustix(), rustix::process::Resource::Nofile);
        assert_eq!(Resource::from_name("NOFILES"), None);
    }
}
