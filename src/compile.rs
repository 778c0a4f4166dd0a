//! The pipeline end to end: bundle → plan → checks. Every command that needs a plan gets it
//! from [`checked`] (or, to show what is wrong with a bundle, [`plan`]), with the same options,
//! and its warnings are printed there.

use std::path::{Path, PathBuf};

use crate::bundle::Bundle;
use crate::error::{Error, InputError};
use crate::plan::Plan;
use crate::plan::container::Container;
use crate::render::escape;
use crate::runtime::{self, Choice, config};
use crate::target::{Manager, Target};
use crate::translate::{self, Options};

/// Longest unit name systemd accepts, suffix included.
const UNIT_NAME_MAX: usize = 255;

/// What the user chose on the command line.
#[derive(Clone, Debug)]
pub struct Request {
    pub name: Option<String>,
    pub target: Target,
    pub best_effort: bool,
    pub manager_uid: u32,
    pub container: ContainerRequest,
    /// `--strict`: a dropped field (or an addition to a container's config) is an error.
    pub strict: bool,
    /// Print no warnings (`run --quiet`, doctor's trial).
    pub quiet: bool,
    /// `run -p KEY=VALUE`, after the bundle's own fields, so they win.
    pub overrides: Vec<String>,
}

/// `--runtime` and what a container needs to know about where it runs.
#[derive(Clone, Debug)]
pub struct ContainerRequest {
    pub runtime: Choice,
    /// `--runtime-version`: no need to ask the runtime.
    pub version: Option<String>,
    /// Where the derived config goes.
    pub home: ConfigHome,
    /// The container may keep `process.terminal` (a scope started from a terminal).
    pub terminal: bool,
    /// The unit the container runs in, when it is not the plan's (`ociunit run` names its
    /// transient units itself).
    pub unit: Option<String>,
    /// The mode, when the caller decided it already (`ociunit run` asks the runtime for its
    /// version while it connects to the manager).
    pub resolved: Option<runtime::Mode>,
}

impl Default for ContainerRequest {
    fn default() -> ContainerRequest {
        ContainerRequest {
            runtime: Choice::Auto,
            version: None,
            home: ConfigHome::Persistent(None),
            terminal: false,
            unit: None,
            resolved: None,
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
pub fn plan(bundle: &Bundle, request: &Request) -> Result<Plan, Error> {
    let unit = unit_name(bundle, request.name.as_deref())?;
    let wanted = &request.container;
    let mode = match &wanted.resolved {
        Some(mode) => mode.clone(),
        None => runtime::resolve(bundle, &wanted.runtime, wanted.version.as_deref())?,
    };
    let (container, adjustments) = match mode.runtime() {
        Some(runtime) => {
            let (container, adjustments) = container(bundle, runtime, &unit, request)?;
            (Some(container), adjustments)
        }
        None => (None, Vec::new()),
    };
    let options = Options {
        target: request.target,
        unit,
        best_effort: request.best_effort,
        manager_uid: request.manager_uid,
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
/// error; the warnings for the others are printed here, unless `quiet`.
pub fn checked(bundle: &Bundle, request: &Request) -> Result<Plan, Error> {
    let (plan, warnings) = with_warnings(bundle, request)?;
    if !request.quiet {
        for warning in warnings {
            eprintln!("ociunit: warning: {warning}");
        }
    }
    Ok(plan)
}

/// [`checked`] for a command that reports the warnings itself (in its `--json` document, or in
/// a generator's log) instead of printing them.
pub fn with_warnings(bundle: &Bundle, request: &Request) -> Result<(Plan, Vec<String>), Error> {
    let plan = plan(bundle, request)?;
    let warnings = check(&plan, request.strict)?;
    Ok((plan, warnings))
}

/// The container half of the plan and the changes made to the bundle's config for it.
fn container(
    bundle: &Bundle,
    runtime: &runtime::Runtime,
    unit: &str,
    request: &Request,
) -> Result<(Container, Vec<config::Adjustment>), Error> {
    let (uid, gid, run_dir) = match request.target.manager {
        Manager::System => (0, 0, PathBuf::from("/run")),
        Manager::User => {
            let uid = request.manager_uid;
            let gid = rustix::process::getgid().as_raw();
            (uid, gid, PathBuf::from(format!("/run/user/{uid}")))
        }
    };
    let id = Container::id_for(request.container.unit.as_deref().unwrap_or(unit));
    let runtime_directory = format!("ociunit/{id}");
    let state_dir = run_dir.join(&runtime_directory);
    let config_dir = match &request.container.home {
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
        terminal: request.container.terminal,
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

/// Loads and [`checked`] in one go.
pub fn compile(path: &Path, request: &Request) -> Result<Plan, Error> {
    checked(&Bundle::load(path)?, request)
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
