//! ociunit: a compiler from OCI runtime bundles to systemd units, and the control plane around
//! them.
//!
//! The pipeline, one module per stage:
//! [`bundle`] (read and validate config.json) → [`translate`] (OCI fields → a typed [`plan`],
//! one file per resource family) → [`downgrade`] (fit the plan to the target systemd) →
//! [`limits`] (what systemd and the kernel will load) → [`render`] (unit text, explain report,
//! D-Bus properties). [`compile`] runs it end to end for a [`compile::Request`] (what the user
//! asked) in a [`compile::Context`] (what the caller derives). [`generator`] runs the same
//! pipeline as a systemd generator.
//!
//! The control plane: [`systemd`] is the one client of the manager (every connection, call and
//! job wait); [`live`] is a bundle against a live manager (open, read, plan for its version),
//! which `run`, `apply` and `doctor` share; [`run`] starts transient units; [`lifecycle`] is
//! install, diff, apply, list, status, uninstall; [`cgroupfs`] is the cgroup v2 file system
//! under both the launcher and the commands that read or change a running unit's cgroup;
//! [`error`] has one variant per kind of failure and its exit status; the library tells its
//! warnings to a [`shell::Shell`] and never prints. [`launch`] is the in-unit launcher that
//! finishes what systemd cannot do.
//!
//! Where to start reading, one hop each:
//! - `cpu.shares` → `CPUWeight=`: [`translate::cpu`] (`shares_to_weight`, with the formula and
//!   its sources); the property table entry it fills is in [`plan::property`].
//! - The `StartTransientUnit` call: [`run::start`] builds the properties
//!   ([`render::dbus::properties`]) and calls [`systemd::Bus::start_transient_unit`].
//! - The launcher's steps between start and exec: [`launch::run`] (the leaf cgroup, its
//!   controllers and writes, through [`cgroupfs::tree`]) then [`launch::process::exec`].
//! - How `apply` decides what changes live and what needs a restart: `lifecycle::apply::diff`
//!   (`classify`, then `order`), pure functions tested without a bus.

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
