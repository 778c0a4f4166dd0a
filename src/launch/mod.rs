//! The in-unit launcher, `ociunit-launch`.

pub mod grammar;
