//! The pipeline end to end: bundle → plan → checks. Every command that needs a plan gets it
//! from [`checked`] (or, to show what is wrong with a bundle, [`plan`]), with the same options,
//! and its warnings are printed there.

use std::path::PathBuf;

use crate::bundle::Bundle;
use crate::error::{Error, InputError};
use crate::plan::Plan;
use crate::plan::container::Container;
use crate::render::escape;
use crate::runtime::{self, Choice, config};
use crate::shell::Shell;
use crate::target::{Manager, Target};
use crate::translate::{self, Options};

/// Longest unit name systemd accepts, suffix included.
const UNIT_NAME_MAX: usize = 255;

/// What the user asked on the command line: the same whichever manager answers and however the
/// plan is run. What the caller derives is the [`Context`].
#[derive(Clone, Debug)]
pub struct Request {
    pub name: Option<String>,
    /// The manager, and the systemd to compile for (`--systemd-version`, else the local one; a
    /// command that talks to the manager plans for the version it reports).
    pub target: Target,
    pub best_effort: bool,
    /// `--strict`: a dropped field (or an addition to a container's config) is an error.
    pub strict: bool,
    /// `run -p KEY=VALUE`, after the bundle's own fields, so they win.
    pub overrides: Vec<String>,
    /// `--runtime`.
    pub runtime: Choice,
    /// `--runtime-version`: no need to ask the runtime.
    pub runtime_version: Option<String>,
    /// `--state-dir`: where container mode keeps the derived config of a unit file.
    pub state_dir: Option<PathBuf>,
}

impl Request {
    /// The request for `target` with every option at its default.
    pub fn new(target: Target) -> Request {
        Request {
            name: None,
            target,
            best_effort: false,
            strict: false,
            overrides: Vec::new(),
            runtime: Choice::Auto,
            runtime_version: None,
            state_dir: None,
        }
    }
}

/// What the caller derives for a plan, from the host and from how it runs the plan: not the
/// user's choice, and different for a unit file and a transient unit of the same request.
#[derive(Clone, Debug)]
pub struct Context {
    /// The uid whose manager runs the unit: a user manager's units run as that user.
    pub manager_uid: u32,
    /// Where a container's derived config lives.
    pub home: ConfigHome,
    /// The unit the container runs in, when it is not the plan's (`ociunit run` names its
    /// transient units itself).
    pub unit: Option<String>,
    /// The container may keep `process.terminal` (a scope started from a terminal).
    pub terminal: bool,
    /// How the bundle runs, when the caller resolved it already (while it waited for the
    /// manager, or once for every bundle of a generator run).
    pub mode: Option<runtime::Mode>,
}

impl Context {
    /// For a unit file: the container's config kept in the state directory.
    pub fn installed(request: &Request) -> Context {
        Context {
            manager_uid: rustix::process::getuid().as_raw(),
            home: ConfigHome::Persistent(request.state_dir.clone()),
            unit: None,
            terminal: false,
            mode: None,
        }
    }

    /// For a transient unit named `unit`: the container's config kept with its runtime state.
    pub fn transient(unit: &str) -> Context {
        Context {
            manager_uid: rustix::process::getuid().as_raw(),
            home: ConfigHome::Transient,
            unit: Some(unit.to_owned()),
            terminal: false,
            mode: None,
        }
    }
}

/// Where a container's derived config lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigHome {
    /// For a unit file: `DIR/NAME/config.json`, DIR being `--state-dir` or the manager's
    /// default ([`default_state_dir`]), kept as long as the unit.
    Persistent(Option<PathBuf>),
    /// For a transient unit: its runtime directory, which systemd removes when it stops.
    Transient,
}

/// ociunit's own state: `$XDG_STATE_HOME/ociunit` (`~/.local/state/ociunit`) for a user
/// manager, `/var/lib/ociunit` for the system manager.
pub fn default_state_dir(manager: Manager) -> Result<PathBuf, Error> {
    match manager {
        Manager::System => Ok(PathBuf::from("/var/lib/ociunit")),
        Manager::User => {
            Ok(
                crate::lifecycle::xdg_dir("XDG_STATE_HOME", ".local/state", "--state-dir")?
                    .join("ociunit"),
            )
        }
    }
}

/// A unit name as a user gives it, `NAME` or `NAME.SUFFIX`, read the way every command reads
/// it: NAME as [`escape::as_unit_name`] reads it, so that `status`, `diff`, `uninstall` and
/// `run --unit` name the unit `compile --name` made (the name `list` shows is used as it is,
/// `-foo` means the `\x2dfoo.service` that `--name=-foo` made).
pub fn unit_name_of(name: &str, suffix: &str) -> Result<String, Error> {
    let stem = name.strip_suffix(&format!(".{suffix}")).unwrap_or(name);
    let unit = format!("{}.{suffix}", escape::as_unit_name(stem));
    if stem.is_empty() || unit.len() > UNIT_NAME_MAX {
        return Err(Error::Usage(format!(
            "{stem:?} does not make a unit name of 1..{} characters",
            UNIT_NAME_MAX - suffix.len() - 1
        )));
    }
    Ok(unit)
}

/// The unit name: `--name`, or the bundle directory's name, as [`unit_name_of`] reads it.
pub fn unit_name(bundle: &Bundle, name: Option<&str>) -> Result<String, Error> {
    if let Some(name) = name {
        return unit_name_of(name, "service");
    }
    let base = bundle
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{}: cannot derive a unit name from the bundle directory; give --name",
                bundle.config.display()
            ))
        })?;
    unit_name_of(&base, "service").map_err(|err| Error::Usage(format!("{err}; give --name")))
}

/// Translates, adds the overrides, downgrades and checks what systemd and the kernel will load;
/// the plan still holds invalid and dropped fields, for `explain`.
pub fn plan(bundle: &Bundle, request: &Request, context: &Context) -> Result<Plan, Error> {
    let unit = unit_name(bundle, request.name.as_deref())?;
    let mode = match &context.mode {
        Some(mode) => mode.clone(),
        None => runtime::resolve(bundle, &request.runtime, request.runtime_version.as_deref())?,
    };
    let (container, adjustments) = match mode.runtime() {
        Some(runtime) => {
            let (container, adjustments) = container(bundle, runtime, &unit, request, context)?;
            (Some(container), adjustments)
        }
        None => (None, Vec::new()),
    };
    let options = Options {
        target: request.target,
        unit,
        best_effort: request.best_effort,
        manager_uid: context.manager_uid,
    };
    let mut plan = translate::translate(bundle, &options, mode, container, &adjustments);
    for assignment in &request.overrides {
        plan.mappings.push(crate::run::overrides::parse(
            assignment,
            request.target.systemd,
        )?);
    }
    translate::mark_overridden(&mut plan.mappings);
    crate::downgrade::downgrade(&mut plan);
    crate::limits::check(&mut plan);
    Ok(plan)
}

/// The plan of a bundle that compiles: invalid fields (and under `strict` dropped ones) are an
/// error; the warnings for the others go to `shell`.
pub fn checked(
    bundle: &Bundle,
    request: &Request,
    context: &Context,
    shell: &Shell,
) -> Result<Plan, Error> {
    let (plan, warnings) = with_warnings(bundle, request, context)?;
    for warning in warnings {
        shell.warn(warning);
    }
    Ok(plan)
}

/// [`checked`] for a command that reports the warnings itself (in its `--json` document, or in
/// a generator's log).
pub fn with_warnings(
    bundle: &Bundle,
    request: &Request,
    context: &Context,
) -> Result<(Plan, Vec<String>), Error> {
    let plan = plan(bundle, request, context)?;
    let warnings = check(&plan, request.strict)?;
    Ok((plan, warnings))
}

/// The container half of the plan and the changes made to the bundle's config for it.
fn container(
    bundle: &Bundle,
    runtime: &runtime::Runtime,
    unit: &str,
    request: &Request,
    context: &Context,
) -> Result<(Container, Vec<config::Adjustment>), Error> {
    let (uid, gid, run_dir) = match request.target.manager {
        Manager::System => (0, 0, PathBuf::from("/run")),
        Manager::User => {
            let uid = context.manager_uid;
            let gid = rustix::process::getgid().as_raw();
            (uid, gid, PathBuf::from(format!("/run/user/{uid}")))
        }
    };
    let id = Container::id_for(context.unit.as_deref().unwrap_or(unit));
    let runtime_directory = format!("ociunit/{id}");
    let state_dir = run_dir.join(&runtime_directory);
    let config_dir = match &context.home {
        ConfigHome::Transient => state_dir.clone(),
        ConfigHome::Persistent(dir) => match dir {
            Some(dir) => dir.clone(),
            None => default_state_dir(request.target.manager)?,
        }
        .join(&id),
    };
    let context = config::Context {
        runtime,
        bundle_dir: &bundle.dir,
        uid,
        gid,
        terminal: context.terminal,
    };
    let (config, adjustments) = config::derive(&bundle.raw, &context);
    let container = Container {
        runtime: runtime.clone(),
        id,
        config_dir,
        state_dir,
        runtime_directory,
        config,
    };
    Ok((container, adjustments))
}

/// Fails on invalid fields (and, under `strict`, on dropped ones); returns the warnings.
pub fn check(plan: &Plan, strict: bool) -> Result<Vec<String>, Error> {
    let file = &plan.source.config;
    let mut errors: Vec<InputError> = plan
        .errors()
        .into_iter()
        .map(|(m, why)| InputError::at(file, m.path.clone(), why))
        .collect();
    let drops = plan
        .drops()
        .into_iter()
        .map(|(m, why)| InputError::at(file, m.path.clone(), format!("dropped: {why}")));
    if strict {
        let additions = plan
            .additions()
            .into_iter()
            .map(|(m, what)| InputError::at(file, m.path.clone(), format!("added: {what}")));
        errors.extend(drops.chain(additions).map(|mut e| {
            e.message.push_str(" (--strict)");
            e
        }));
        return if errors.is_empty() {
            Ok(Vec::new())
        } else {
            Err(Error::Input(errors))
        };
    }
    if !errors.is_empty() {
        return Err(Error::Input(errors));
    }
    Ok(drops.map(|e| e.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::unit_name_of;

    #[test]
    fn unit_names_are_read_as_compile_name_reads_them() {
        let name = |text: &str, suffix: &str| unit_name_of(text, suffix).unwrap();
        assert_eq!(name("my app", "service"), "my\\x20app.service");
        assert_eq!(name("my\\x20app.service", "service"), "my\\x20app.service");
        assert_eq!(name("-foo", "service"), "\\x2dfoo.service");
        assert_eq!(name("web.service", "scope"), "web.service.scope");
        assert_eq!(name("web.scope", "scope"), "web.scope");
        assert!(unit_name_of(".service", "service").is_err());
        assert!(unit_name_of(&"a".repeat(248), "service").is_err());
        assert_eq!(name(&"a".repeat(247), "service").len(), 255);
    }
}
