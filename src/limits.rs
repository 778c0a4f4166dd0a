//! Stage 3b: what systemd and the kernel will load. A bundle whose unit would not load, or whose
//! payload could not be started, is invalid input, found before anything is written.
//!
//! systemd's unit parser refuses the whole unit when one line, continuation lines included,
//! reaches LONG_LINE_MAX (src/shared/conf-parser.c, `config_parse`: "No buffer space
//! available"), and execve(2) refuses an argument or environment string of MAX_ARG_STRLEN bytes
//! or more (E2BIG). The launcher's arguments carry the payload's command line, its environment
//! and the cgroup writes, all on the one `ExecStart=` line, so that line is what grows.

use std::collections::HashMap;

use serde_json::Value;

use crate::launch::grammar::LaunchSpec;
use crate::plan::{Destination, Mapping, Plan, Spawner};
use crate::render::escape;

/// systemd's LONG_LINE_MAX (1 MiB): `read_line()` fails on a line of this many bytes, and a
/// continued line may not grow beyond it.
const LONG_LINE_MAX: usize = 1024 * 1024;
/// The kernel's MAX_ARG_STRLEN with 4 KiB pages (32 pages), counting the NUL.
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Room kept on the `ExecStart=` line for the launcher's path, chosen after the plan (PATH_MAX).
const LAUNCHER_PATH_MAX: usize = 4096;
/// What a line continuation adds to the logical line: `" \"` ends a line, four spaces indent the
/// next (see [`escape::exec_lines`]).
const CONTINUATION: usize = 6;

/// Adds an invalid field for each string or line that would not load.
pub fn check(plan: &mut Plan) {
    let (spec, _) = plan.launch_spec(Spawner::Systemd);
    let mut errors = Vec::new();
    let arguments = spec
        .command
        .iter()
        .enumerate()
        .map(|(index, arg)| (format!("process.args[{index}]"), arg.as_str()))
        .chain(
            spec.env
                .iter()
                .enumerate()
                .map(|(index, var)| (format!("process.env[{index}]"), var.as_str())),
        )
        .chain(
            spec.cwd
                .iter()
                .map(|cwd| ("process.cwd".to_owned(), cwd.as_str())),
        );
    for (path, text) in arguments {
        if text.len() >= MAX_ARG_STRLEN {
            errors.push(too_long(path, text.len()));
        }
    }
    // Each cgroup write, by the field it came from (the launcher has each write once).
    let mut sources: HashMap<String, &str> = HashMap::new();
    for mapping in &plan.mappings {
        for destination in &mapping.destinations {
            let (property, write) = match destination {
                Destination::Property { property, leaf } => (Some(property), leaf.as_ref()),
                Destination::Launcher { write, .. } => (None, Some(write)),
                _ => continue,
            };
            if let Some(property) = property {
                let value = escape::setting(&property.value, property.spec.specifiers)
                    .map_or(property.value.len(), |v| v.len());
                let length = property.key.len() + 1 + value;
                if length >= LONG_LINE_MAX {
                    let setting = format!("{}=", property.key);
                    errors.push(line_too_long(mapping.path.clone(), &setting, length, None));
                }
            }
            if let Some(write) = write {
                let write = write.to_string();
                if write.len() >= MAX_ARG_STRLEN {
                    errors.push(too_long(mapping.path.clone(), write.len()));
                }
                sources.entry(write).or_insert(&mapping.path);
            }
        }
    }
    if errors.is_empty() {
        let (total, parts) = exec_start(&spec, &sources);
        if total >= LONG_LINE_MAX {
            let (field, share) = parts
                .into_iter()
                .max_by_key(|(_, length)| *length)
                .unwrap_or_default();
            errors.push(line_too_long(field, "ExecStart=", total, Some(share)));
        }
    }
    plan.mappings.extend(errors);
}

/// The length of the logical `ExecStart=` line, and what each field (without its index) adds
/// to it; `sources` says which field each cgroup write comes from.
fn exec_start(spec: &LaunchSpec, sources: &HashMap<String, &str>) -> (usize, Vec<(String, usize)>) {
    let mut parts: Vec<(String, usize)> = Vec::new();
    let mut total = "ExecStart=".len() + LAUNCHER_PATH_MAX;
    for group in spec.to_arg_groups() {
        let length = escape::exec_line(&group).len() + CONTINUATION;
        total += length;
        let field = match group[0].as_str() {
            "--" => "process.args",
            "--env" => "process.env",
            "--cwd" => "process.cwd",
            "--write" => sources.get(&group[1]).copied().unwrap_or_default(),
            _ => "",
        };
        let field = field.split('[').next().unwrap_or_default();
        match parts.iter_mut().find(|(f, _)| f == field) {
            Some((_, sum)) => *sum += length,
            None => parts.push((field.to_owned(), length)),
        }
    }
    (total, parts)
}

fn too_long(path: String, length: usize) -> Mapping {
    invalid(
        path,
        format!(
            "{length} bytes: execve(2) refuses an argument or environment string of {MAX_ARG_STRLEN} \
             bytes or more (MAX_ARG_STRLEN, 128 KiB)"
        ),
    )
}

/// `share` is what this field adds to a line several fields make up.
fn line_too_long(path: String, setting: &str, length: usize, share: Option<usize>) -> Mapping {
    let share = share.map_or_else(String::new, |share| {
        format!(" (continuation lines included), {share} of them from this field")
    });
    invalid(
        path,
        format!(
            "the unit's {setting} line would be {length} bytes{share}; systemd refuses a unit with \
             a line of {LONG_LINE_MAX} bytes or more (LONG_LINE_MAX, 1 MiB: \"No buffer space \
             available\")"
        ),
    )
}

fn invalid(path: String, why: String) -> Mapping {
    Mapping {
        path,
        value: Value::Null,
        conversion: None,
        destinations: vec![Destination::invalid(why)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The length counted is the line systemd reads: the rendered `ExecStart=` with its
    /// continuations joined, the launcher's path counted as [`LAUNCHER_PATH_MAX`].
    #[test]
    fn the_counted_line_is_the_rendered_line() {
        let spec = LaunchSpec {
            leaf: Some("payload".into()),
            env: vec!["A=b c".into(), "PATH=/bin".into()],
            cwd: Some("/srv/a b ".into()),
            command: vec!["/bin/echo".into(), "%h $HOME \"\n".into()],
            clear_env: true,
            ..LaunchSpec::default()
        };
        let (total, parts) = exec_start(&spec, &HashMap::new());
        let launcher = "/usr/libexec/ociunit-launch";
        let mut groups = vec![vec![launcher.to_owned()]];
        groups.extend(spec.to_arg_groups());
        let line = format!("ExecStart={}", escape::exec_lines(&groups));
        // systemd drops each line's newline and reads its trailing backslash as a space.
        let logical = line.len() - line.matches('\n').count();
        assert_eq!(total, logical - launcher.len() + LAUNCHER_PATH_MAX);
        let fields: Vec<&str> = parts.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["", "process.cwd", "process.env", "process.args"]);
    }
}
