//! ociunit: a compiler from OCI runtime bundles to systemd units.
//!
//! The pipeline, one module per stage:
//! [`bundle`] (read and validate config.json) → [`translate`] (OCI fields → a typed [`plan`],
//! one file per resource family) → [`downgrade`] (fit the plan to the target systemd) →
//! [`limits`] (what systemd and the kernel will load) → [`render`] (unit text, explain report).
//! [`compile`] runs it end to end. [`launch`] is the in-unit launcher that finishes what systemd
//! cannot do. [`generator`] runs the same pipeline as a systemd generator. [`cgroupfs`] is the
//! cgroup v2 filesystem under both the launcher and the commands that read or change a running
//! unit's cgroup (`status`, `apply`, `doctor`).

pub mod bundle;
pub mod capability;
pub mod cgroupfs;
pub mod compile;
pub mod doctor;
pub mod downgrade;
pub mod error;
pub mod generator;
pub mod launch;
pub mod lifecycle;
pub mod limits;
pub mod live;
pub mod output;
pub mod plan;
pub mod regular_file;
pub mod render;
pub mod run;
pub mod runtime;
pub mod shell;
pub mod systemd;
pub mod target;
pub mod translate;
pub mod unit_file;
