//! `ociunit run`: the compiler's plan started now as a transient scope or service over D-Bus,
//! the way `systemd-run` does.
//!
//! The plan is made for the version the manager reports, so only properties it knows are sent;
//! if it still refuses one ("Cannot set property X"), X moves to the launcher and the call is
//! retried, as crun does. A leftover failed unit of the same name is reset and replaced once.

pub mod overrides;
pub mod wait;

use std::hash::{BuildHasher, Hasher};
use std::io::IsTerminal;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

use zbus::zvariant::Value;

use crate::bundle::Bundle;
use crate::compile::{self, Context, Request};
use crate::error::{Error, InputError};
use crate::live::{Live, Runs};
use crate::plan::{Plan, Spawner};
use crate::render::dbus::{self, RunOptions, Transient};
use crate::shell::Shell;
use crate::systemd::{self, Bus, Refusal, Via};

/// How many refused properties `run` moves to the launcher before giving up.
const MAX_REFUSALS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Scope,
    Service,
}

/// Everything `ociunit run` was asked.
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub bundle: PathBuf,
    pub request: Request,
    pub mode: Mode,
    pub unit: Option<String>,
    pub options: RunOptions,
    pub launcher: PathBuf,
    pub wait: bool,
    pub pipe: bool,
    pub no_block: bool,
    /// Print the call instead of making it; `request.target` is then used as is.
    pub dry_run: bool,
}

impl RunRequest {
    /// `--wait` and `--pipe` follow the service to its end: over the bus, holding a reference
    /// on the unit, and its result is this command's.
    fn follows_service(&self) -> bool {
        self.mode == Mode::Service && (self.wait || self.pipe)
    }
}

/// How a run ended, for the command line to report.
pub enum Ran {
    /// `--dry-run`: the StartTransientUnit call, as `busctl` would show it.
    DryRun(String),
    /// The unit started, and is not followed (`--service` without `--wait`, `--no-block`).
    Started { unit: String },
    /// The service was followed to its end (`--wait`, `--pipe`).
    Finished {
        unit: String,
        outcome: wait::Outcome,
    },
    /// In a scope, the launcher failed before it became the payload (a scope that starts never
    /// returns: this process is the payload).
    LaunchFailed(crate::launch::error::LaunchError),
}

/// Runs the bundle; says how it ended. Warnings go to `shell`.
pub fn run(run: &RunRequest, shell: &Shell) -> Result<Ran, Error> {
    if run.dry_run {
        let bundle = Bundle::load(&run.bundle)?;
        let unit = unit_name(&bundle, run)?;
        let plan = plan_with(
            |request, context| compile::checked(&bundle, request, context, shell),
            run,
            &unit,
        )?;
        let transient = transient(run, 0);
        let properties = dbus::properties(&plan, &transient, &options(run));
        return Ok(Ran::DryRun(dbus::listing(&unit, "fail", &properties)));
    }
    let via = if run.follows_service() {
        Via::Bus
    } else {
        Via::Private
    };
    let mut live = Live::open(&run.bundle, &run.request, via, Runs::Transient)?;
    let unit = unit_name(&live.bundle, run)?;
    let mut plan = plan_with(
        |request, context| live.plan(request, context, shell),
        run,
        &unit,
    )?;
    let bus = live.bus()?;
    if let Some(container) = &plan.container {
        crate::output::write_runtime_config(container)?;
    }
    let transient = transient(
        run,
        rustix::process::getpid()
            .as_raw_nonzero()
            .get()
            .unsigned_abs(),
    );
    let stdio = [
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        rustix::stdio::stderr(),
    ];
    let starting = Start {
        unit: unit.clone(),
        transient,
        options: options(run),
        stdio: run.pipe.then_some(stdio),
        no_block: run.no_block,
        strict: run.request.strict,
        failed_start_is_a_result: run.follows_service(),
    };
    let started = start(bus, &mut plan, &starting, shell)?;
    match run.mode {
        Mode::Scope => {
            // plan_with() refused the bundle if the launcher could not apply everything.
            let (spec, _) = plan.launch_spec(Spawner::Launcher);
            // No orderly teardown: the exec closes the socket (close-on-exec), and a
            // teardown is time the payload waits for.
            std::mem::forget(live);
            match crate::launch::run(&spec, crate::cgroupfs::Mount::discover) {
                Err(err) => Ok(Ran::LaunchFailed(err)),
                Ok(never) => match never {},
            }
        }
        Mode::Service if run.follows_service() => {
            let outcome = wait::until_done(bus, &unit, shell)?;
            if let Started::Failed(err) = started {
                if !outcome.launcher_ran() {
                    return Err(err);
                }
            }
            Ok(Ran::Finished { unit, outcome })
        }
        Mode::Service => Ok(Ran::Started { unit }),
    }
}

/// The plan `make` makes for the transient unit `unit`, which a scope must be able to apply
/// whole.
fn plan_with(
    make: impl FnOnce(&Request, &Context) -> Result<Plan, Error>,
    run: &RunRequest,
    unit: &str,
) -> Result<Plan, Error> {
    // A container of a transient unit keeps its config and state in the unit's runtime
    // directory, named after the unit; only a scope can hand it a terminal.
    let context = Context {
        terminal: run.mode == Mode::Scope && std::io::stdin().is_terminal(),
        ..Context::transient(unit)
    };
    let plan = make(&run.request, &context)?;
    if run.mode == Mode::Scope {
        scope_can_apply(&plan)?;
    }
    Ok(plan)
}

/// In a scope this process runs the payload, and what it cannot apply (the user and groups,
/// capabilities it would have to grant, a seccomp filter, a security label) would leave the
/// payload with more privilege than the bundle asks for: the bundle is refused instead.
fn scope_can_apply(plan: &Plan) -> Result<(), Error> {
    let (_, unapplied) = plan.launch_spec(Spawner::Launcher);
    let errors: Vec<InputError> = plan
        .destinations()
        .filter_map(|(mapping, destination)| match destination {
            crate::plan::Destination::Property { property, .. }
                if unapplied.iter().any(|u| std::ptr::eq(*u, property)) =>
            {
                Some(InputError::at(
                    &plan.source.config,
                    mapping.path.clone(),
                    format!(
                        "{}={} cannot apply to a scope (this process runs the payload and cannot \
                         set it up): use --service",
                        property.key, property.value
                    ),
                ))
            }
            _ => None,
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Input(errors))
    }
}

fn transient(run: &RunRequest, pid: u32) -> Transient<'_> {
    match run.mode {
        Mode::Scope => Transient::Scope { pid },
        Mode::Service => Transient::Service {
            launcher: &run.launcher,
        },
    }
}

fn options(run: &RunRequest) -> RunOptions {
    RunOptions {
        add_ref: run.follows_service(),
        ..run.options.clone()
    }
}

/// `--unit`, or the bundle's unit name with a random suffix so that runs do not collide.
fn unit_name(bundle: &Bundle, run: &RunRequest) -> Result<String, Error> {
    let suffix = match run.mode {
        Mode::Scope => "scope",
        Mode::Service => "service",
    };
    Ok(if let Some(name) = &run.unit {
        compile::unit_name_of(name, suffix)?
    } else {
        let base = compile::unit_name(bundle, run.request.name.as_deref())?;
        let stem = base.strip_suffix(".service").unwrap_or(&base);
        format!("{stem}-{}.{suffix}", random_suffix())
    })
}

/// Eight random hex digits, so that transient units of one bundle do not collide.
pub fn random_suffix() -> String {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{:08x}", random >> 32)
}

/// A transient unit about to be started: everything [`start`] needs besides the plan.
pub struct Start<'a> {
    pub unit: String,
    pub transient: Transient<'a>,
    pub options: RunOptions,
    /// The service's stdin, stdout and stderr (`--pipe`, doctor's trial).
    pub stdio: Option<[BorrowedFd<'a>; 3]>,
    pub no_block: bool,
    pub strict: bool,
    /// A failed start job is not an error: the caller holds a reference on the unit and reads
    /// its result. A payload that ends at once can end before the manager has seen it start,
    /// which fails the job (systemd 252): `run --wait` still owes its exit status (the
    /// launcher's 125 included), and for doctor's trial the launcher's line is the finding.
    pub failed_start_is_a_result: bool,
}

/// How the start job ended, for a caller that reads the unit's result after it
/// ([`Start::failed_start_is_a_result`]).
pub enum Started {
    Done,
    /// The job failed; the error says so, where the unit's result does not say more.
    Failed(Error),
}

/// StartTransientUnit, handling leftovers and refused properties, then waits for the job.
pub fn start(
    bus: &mut Bus,
    plan: &mut Plan,
    start: &Start,
    shell: &Shell,
) -> Result<Started, Error> {
    let unit = start.unit.as_str();
    if start.options.add_ref {
        // The unit is waited for: its changes, subscribed to before it can change.
        bus.watch(unit)
            .map_err(|err| err.during(format!("watching {unit}")))?;
    }
    let mut reset = false;
    let mut refusals = 0;
    let job = loop {
        let properties = dbus::properties(plan, &start.transient, &start.options);
        let mut values: Vec<(&str, Value)> = properties
            .iter()
            .map(|p| (p.name, systemd::to_value(p)))
            .collect();
        if let Some(stdio) = start.stdio {
            let names = [
                "StandardInputFileDescriptor",
                "StandardOutputFileDescriptor",
                "StandardErrorFileDescriptor",
            ];
            values.extend(names.into_iter().zip(stdio.map(systemd::fd_value)));
        }
        let err = match bus.start_transient_unit(unit, values) {
            Ok(job) => break job,
            Err(err) => err,
        };
        match err.refusal() {
            Refusal::UnitExists if !reset => {
                reset = true;
                if bus.reset_failed_unit(unit).is_err() {
                    return Err(err.during(format!("starting {unit}")));
                }
                shell.warn(format!(
                    "{unit} was left over from an earlier run: reset and replaced"
                ));
            }
            Refusal::UnknownProperty(name)
                if refusals < MAX_REFUSALS && crate::downgrade::refuse(plan, &name) =>
            {
                refusals += 1;
                if start.strict {
                    return Err(Error::Refused {
                        unit: unit.to_owned(),
                        property: name,
                    });
                }
                shell.warn(format!(
                    "this systemd refuses {name}: the launcher writes the cgroup file instead where one exists"
                ));
            }
            _ => return Err(err.during(format!("starting {unit}"))),
        }
    };
    if start.no_block {
        return Ok(Started::Done);
    }
    match bus.wait(&job, unit) {
        Err(err) if start.failed_start_is_a_result && err.is_failed_job() => {
            Ok(Started::Failed(err))
        }
        ended => ended.map(|()| Started::Done),
    }
}
