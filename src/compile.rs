//! The pipeline end to end: bundle → plan → checks. `main` and the benchmarks call this.

use std::path::Path;

use crate::bundle::Bundle;
use crate::error::{Error, InputError};
use crate::plan::Plan;
use crate::render::escape;
use crate::target::Target;
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
}

/// The unit name: `--name`, or the bundle directory's name, escaped so it is always valid (see
/// [`escape::as_unit_name`]: `status` and `uninstall` read names the same way).
pub fn unit_name(bundle: &Bundle, name: Option<&str>) -> Result<String, Error> {
    let base = match name {
        Some(name) => name.strip_suffix(".service").unwrap_or(name).to_owned(),
        None => bundle
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{}: cannot derive a unit name from the bundle directory; give --name",
                    bundle.config.display()
                ))
            })?,
    };
    let unit = format!("{}.service", escape::as_unit_name(&base));
    if base.is_empty() || unit.len() > UNIT_NAME_MAX {
        return Err(Error::Usage(format!(
            "{base:?} does not make a unit name of 1..{} characters; give --name",
            UNIT_NAME_MAX - ".service".len()
        )));
    }
    Ok(unit)
}

/// Translates and downgrades; the plan still holds invalid and dropped fields for `explain`.
pub fn plan(bundle: &Bundle, request: &Request) -> Result<Plan, Error> {
    let options = Options {
        target: request.target,
        unit: unit_name(bundle, request.name.as_deref())?,
        best_effort: request.best_effort,
        manager_uid: request.manager_uid,
    };
    let mut plan = translate::translate(bundle, &options);
    crate::downgrade::downgrade(&mut plan);
    crate::limits::check(&mut plan);
    Ok(plan)
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
        errors.extend(drops.map(|mut e| {
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

/// Loads, plans and checks in one go.
pub fn compile(path: &Path, request: &Request, strict: bool) -> Result<(Plan, Vec<String>), Error> {
    let bundle = Bundle::load(path)?;
    let plan = plan(&bundle, request)?;
    let warnings = check(&plan, strict)?;
    Ok((plan, warnings))
}
