//! ociunit: a compiler from OCI runtime bundles to systemd units.
//!
//! The pipeline, one module per stage:
//! `bundle` (read and validate config.json) → `translate` (OCI fields → a typed `plan`) →
//! `downgrade` (fit the plan to the target systemd) → `render` (unit text, explain report,
//! D-Bus properties). `launch` is the in-unit launcher that finishes what systemd cannot do.

pub mod interface_file;
pub mod launch;
