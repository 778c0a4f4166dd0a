//! `ociunit apply`: reconcile an installed, running unit with its edited bundle without a
//! restart where the kernel and systemd allow it, and say exactly what still needs one.
//!
//! The old plan cannot be recomputed (the bundle changed), so "what the unit runs now" is read
//! from the unit itself: systemd's limits over D-Bus (by the table's D-Bus names), the launcher's
//! limits from the payload's leaf cgroup, and what only applies at start (the command line, the
//! environment, exec settings, the runtime's config) from the installed unit file, which is what
//! the running process was started from.
//!
//! It goes in three steps, a module each: `observe` what runs, `diff` it with the plan (a pure
//! decision), `execute` the changes; `report` is what the user is told.

mod diff;
mod execute;
mod observe;
mod report;

use std::path::PathBuf;

use crate::compile::{self, Context, Request};
use crate::error::Error;
use crate::live::{Live, Runs};
use crate::output::{self, DirLock};
use crate::plan::Plan;
use crate::plan::property::PropertySpec;
use crate::render::unit;
use crate::shell::Shell;
use crate::systemd::{self, Bus, UnitState, Via};

use super::install::{self, Pending};
use super::status::read_live;
use observe::{KeepOnRewrite, Running, Start, Started};
pub use report::{Change, EXIT_RESTART_NEEDED, FORMAT, Field, Outcome, Place, Report, text};

#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub bundle: PathBuf,
    /// Its `target.systemd` is for checking the bundle before the bus is reached.
    pub request: Request,
    /// `--systemd-version`; without it, the plan is for the version the manager reports.
    pub systemd: Option<u32>,
    pub launcher: PathBuf,
    pub unit_dir: Option<PathBuf>,
    pub dry_run: bool,
    pub restart: bool,
    pub force: bool,
}

/// Report and exit status (0 all applied live, [`EXIT_RESTART_NEEDED`], 1 a change failed).
pub fn apply(apply: &ApplyRequest, shell: &Shell) -> Result<(Report, u8), Error> {
    let (target, mut bus, state) = open(apply, shell)?;
    let plan = &target.plan;
    let active = state.active();
    let tree = active.then(|| observe::leaf_tree(&state.service, &plan.leaf));
    let old_config = observe::runtime_config(plan);
    let old_config = old_config.as_deref();
    let (mut planned, keep) = match &target.installed {
        Some(installed) if !active => {
            let installed = target.read_installed(installed)?.start;
            let new = target.read_new()?.start;
            (diff::not_running(&installed, &new, old_config, plan), None)
        }
        _ => {
            let (running, new, keep) = target.running(apply, &state)?;
            let live = |spec: &PropertySpec| read_live(&state.service, spec);
            let leaf = |file: &str| tree.as_ref()?.as_ref().ok()?.read(file);
            let planned = diff::classify(plan, &running, &new, old_config, live, leaf);
            (planned, keep)
        }
    };
    diff::order(&mut planned);
    let main_pid = state.service.get::<u32>("MainPID").unwrap_or(0);
    let transient = target.installed.is_none();
    let mut report = Report::new(
        plan.unit.clone(),
        apply.dry_run,
        active,
        transient,
        main_pid,
    );
    if apply.dry_run {
        report.set_fields(planned.into_iter().map(|p| p.field).collect());
        let code = report.exit_code();
        return Ok((report, code));
    }

    // The unit is written first, so that a live change not made (a failure stops the rest) is
    // in the file for the next start; the manager reads it last, once the live changes are
    // made, since a reload changes the unit's properties but not its cgroup.
    let pending = target.rewrite(apply.force, old_config, keep, &mut report.warnings, shell)?;
    let control = (!transient).then(|| {
        let manager = apply.request.target.manager;
        execute::ControlDropIns::scan(systemd::runtime_control_dir(manager, &plan.unit))
    });
    let set_live = execute::live_changes(&mut planned, &mut bus, plan, tree.as_ref());
    if let (Some(control), true) = (&control, set_live) {
        report.warnings.extend(control.remove_written());
    }
    // The reload forgets the runtime drop-ins just removed, and reads the rewritten unit.
    execute::reload(&mut bus, pending, set_live, set_live && control.is_some())?;
    report.set_fields(planned.into_iter().map(|p| p.field).collect());
    if report.restart_needed && apply.restart {
        let main_pid = execute::restart(&mut bus, &plan.unit)?;
        report.restarted(main_pid);
    }
    let code = report.exit_code();
    Ok((report, code))
}

/// The unit apply works on: the bundle compiled for the manager that runs it.
struct Compiled {
    plan: Plan,
    /// The unit file the plan renders to.
    text: String,
    path: PathBuf,
    /// Held from reading the installed unit to the reload, so that what is compared is what is
    /// replaced; a dry run holds it too, to compare against a whole install. A transient unit
    /// has no file and so no directory to lock.
    lock: Option<DirLock>,
    /// The installed unit file; `None` for a transient unit.
    installed: Option<Vec<u8>>,
}

/// Compiles the bundle for the manager that runs its unit ([`Live`]), and reads the unit:
/// installed (a unit file) or transient (`ociunit run --service`, which must still run).
fn open(apply: &ApplyRequest, shell: &Shell) -> Result<(Compiled, Bus, UnitState), Error> {
    let manager_kind = apply.request.target.manager;
    let request = &apply.request;
    // The manager answers while the bundle is read and its runtime located.
    let live =
        Live::open(&apply.bundle, request, Via::Private, Runs::Installed)?.pinned(apply.systemd);
    let unit_name = compile::unit_name(&live.bundle, request.name.as_deref())?;
    let dir = super::unit_dir(manager_kind, apply.unit_dir.as_deref())?;
    let path = dir.join(&unit_name);
    let lock = if dir.is_dir() {
        Some(output::lock_dir(&dir)?)
    } else {
        None
    };
    let installed = output::read_unit(&path)?;
    let not_installed = || Error::NotInstalled {
        unit: unit_name.clone(),
        path: path.clone(),
    };
    if installed.is_none() && apply.restart {
        return Err(Error::Usage(format!(
            "{}: --restart needs an installed unit, and {} does not exist: a transient unit \
             started by `ociunit run` restarts with the definition it was started with, not \
             the bundle's; stop it and `ociunit run` the bundle again",
            unit_name,
            path.display()
        )));
    }
    // `run` keeps a container's config with its runtime state, not in the state directory.
    let context = match installed {
        Some(_) => Context::installed(request),
        None => Context::transient(&unit_name),
    };
    let plan = live.plan(request, &context, shell);
    // Without a unit file and without the manager, nothing says there is such a unit: that is
    // what the user can act on (a wrong --name, a bundle never installed).
    let (plan, mut bus) = match (plan, live.bus) {
        (Ok(plan), Ok(bus)) => (plan, bus),
        (Err(err @ Error::Input(_)), _) => return Err(err),
        (_, Err(_)) if installed.is_none() => return Err(not_installed()),
        (Err(err), _) | (_, Err(err)) => return Err(err),
    };
    let text = unit::render(&plan, &apply.launcher)?;
    let state = bus
        .unit(&plan.unit)
        .map_err(|e| e.during(format!("reading {}", plan.unit)))?;
    if installed.is_none() {
        if !state.transient {
            return Err(not_installed());
        }
        if !state.active() {
            return Err(Error::NotRunning {
                unit: plan.unit.clone(),
                state: state.active_state,
            });
        }
    }
    let target = Compiled {
        plan,
        text,
        path,
        lock,
        installed,
    };
    Ok((target, bus, state))
}

impl Compiled {
    /// The installed unit file, as systemd reads it.
    fn read_installed(&self, installed: &[u8]) -> Result<Running, Error> {
        let text = String::from_utf8_lossy(installed);
        Running::unit_file(&text).map_err(|why| Error::Conflict {
            path: self.path.clone(),
            why: format!(
                "{why}: apply compares the bundle only with a unit that runs ociunit-launch; \
                 `ociunit install` replaces it (with --force if it was edited by hand)"
            ),
        })
    }

    /// The new unit file, read back as systemd will read it.
    fn read_new(&self) -> Result<Running, Error> {
        Running::unit_file(&self.text).map_err(|why| Error::Render {
            what: format!("reading {} back", self.plan.unit),
            why,
        })
    }

    /// What runs, what the plan starts with in the same terms, and, for an installed unit
    /// whose file no `apply` has rewritten since it started, the record to keep of it should
    /// this one rewrite it.
    fn running(
        &self,
        apply: &ApplyRequest,
        state: &UnitState,
    ) -> Result<(Running, Start, Option<KeepOnRewrite>), Error> {
        let Some(installed) = &self.installed else {
            let running = Running::transient(&self.plan, &state.fragment_path, &state.service)?;
            return Ok((
                running,
                Start::of_transient(&self.plan, &apply.launcher),
                None,
            ));
        };
        let installed = self.read_installed(installed)?;
        let new = self.read_new()?.start;
        let started = Started::of(
            apply.request.state_dir.as_deref(),
            apply.request.target.manager,
            &self.plan.unit,
            state.invocation_id.clone(),
        )?;
        Ok(if let Some(kept) = started.read() {
            (installed.since_rewritten(kept), new, None)
        } else {
            let start = installed.start.clone();
            let keep = KeepOnRewrite {
                record: started,
                start,
            };
            (installed, new, Some(keep))
        })
    }

    /// Writes the unit file (and a container's runtime config) if either changed. The first
    /// rewrite since the unit started keeps what it started with (`keep`), which the new file
    /// no longer says; that failing is only a warning, as the live changes can still be made.
    fn rewrite(
        &self,
        force: bool,
        old_config: Option<&str>,
        keep: Option<KeepOnRewrite>,
        warnings: &mut Vec<String>,
        shell: &Shell,
    ) -> Result<Option<Pending<'_>>, Error> {
        let (Some(lock), Some(previous)) = (&self.lock, &self.installed) else {
            return Ok(None);
        };
        let unit_changed = previous.as_slice() != self.text.as_bytes();
        let config_changed = self
            .plan
            .container
            .as_ref()
            .is_some_and(|c| old_config != Some(c.config_text().as_str()));
        if !unit_changed && !config_changed {
            return Ok(None);
        }
        let plan = &self.plan;
        let pending = install::write(
            lock,
            plan,
            &self.path,
            &self.text,
            Some(previous),
            force,
            shell,
        )?;
        if let (Some(keep), true) = (keep, unit_changed) {
            if let Err(err) = keep.record.keep(keep.start) {
                warnings.push(format!(
                    "cannot keep what the running {} started with ({err}): the next apply \
                     compares the start-time settings with the new unit file",
                    plan.unit
                ));
            }
        }
        Ok(Some(pending))
    }
}
