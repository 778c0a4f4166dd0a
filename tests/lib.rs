//! The integration tests: one crate, so `cargo test` links one binary rather than one per file.
//! Each module is a former test file; they all run their commands through `test::Test`.

mod test;

mod bad_input;
mod cli;
mod container;
mod files;
mod generated;
mod generator;
mod json;
mod launcher;
mod snapshots;
mod verify;
