//! The argument grammar of `ociunit-launch`: the one contract between the compiler, which writes
//! these arguments into `ExecStart=`, and the launcher, which obeys them. Both sides use this
//! module, so what the compiler emits is by construction what the launcher accepts.
//!
//! The grammar is [`USAGE`], which `ociunit-launch --help` prints.
//!
//! Every option takes its value as the next argument, never glued with `=`, so a value may start
//! with `-` or contain anything at all. An option with one value may be given once.

use std::fmt;

use crate::cgroupfs::file::{CgroupWrite, InterfaceFile, UnsafeName, is_leaf_name};
use crate::plan::rlimit::Resource;

/// The launcher's command line, as `--help` prints it.
pub const USAGE: &str = "\
ociunit-launch [OPTION]... -- PROGRAM [ARG]...

  --leaf NAME            run the payload in the leaf cgroup NAME below the delegated cgroup.
                         If the launcher already runs in a cgroup called NAME
                         (DelegateSubgroup=NAME), that is the leaf; otherwise it creates
                         <own cgroup>/NAME and moves itself in.
  --supervisor NAME      the launcher (and the program it execs) runs in the leaf NAME
                         instead, beside the --leaf, which it creates empty and writes the
                         limits into: for a runtime that puts the container's processes into
                         the --leaf itself (runc). DelegateSubgroup=NAME works as for --leaf.
  --controllers LIST     comma-separated controllers to enable in the delegated cgroup's
                         cgroup.subtree_control, besides those the writes need; a controller
                         that is not delegated is a setup failure.
  --write FILE=VALUE     write VALUE into interface file FILE of the leaf; repeatable, applied
                         in order; a multi-line VALUE is written one line at a time.
  --best-effort          a failed write is a warning instead of a setup failure.
  --clear-env            start the payload with only the --env variables (OCI semantics).
  --env NAME=VALUE       add a variable to the payload's environment; repeatable.
  --cwd DIR              working directory of the payload.
  --umask OCTAL          file mode creation mask of the payload.
  --rlimit NAME=SOFT:HARD  set RLIMIT_NAME (NOFILE, NPROC, …); SOFT and HARD are numbers or
                         \"infinity\"; repeatable, once per resource.
  --oom-score-adj N      write N (-1000..1000) into /proc/self/oom_score_adj.
  --no-new-privs         set PR_SET_NO_NEW_PRIVS before exec.
  --capability-bounding-set LIST
                         keep only these comma-separated CAP_* names (empty: none) in the
                         bounding and inheritable sets, as CapabilityBoundingSet= does; for
                         `ociunit run --scope`, where systemd starts nothing.
  --help                 print this and exit.
  --version              print the version and exit.
  --                     ends the options; PROGRAM and its arguments follow verbatim.

An option that takes a value and is not repeatable may be given once. Exit status: 125 setup
failed or usage error, 126 PROGRAM not executable, 127 PROGRAM not found, else PROGRAM's own.
";

/// Exit status for any failure before the payload runs (like crun, runc and podman).
pub const EXIT_SETUP_FAILED: i32 = 125;
/// Exit status when the payload exists but cannot be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// Exit status when the payload does not exist.
pub const EXIT_NOT_FOUND: i32 = 127;

/// A resource limit; `None` is RLIM_INFINITY.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rlimit {
    pub resource: Resource,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// Everything the launcher does, as decided by the compiler.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LaunchSpec {
    pub leaf: Option<String>,
    pub supervisor: Option<String>,
    pub controllers: Vec<String>,
    pub writes: Vec<CgroupWrite>,
    pub best_effort: bool,
    pub clear_env: bool,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub umask: Option<u32>,
    pub rlimits: Vec<Rlimit>,
    pub oom_score_adj: Option<i32>,
    pub no_new_privs: bool,
    /// The capabilities to keep, as a mask of capability numbers.
    pub capability_bounding_set: Option<u64>,
    pub command: Vec<String>,
}

/// A launcher command line that does not follow the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Checks a leaf name: one path component that cannot be mistaken for an interface file.
pub fn check_leaf_name(name: &str) -> Result<(), UsageError> {
    if !is_leaf_name(name) {
        return Err(usage(format!(
            "--leaf {name:?}: a leaf name is one path component of letters, digits, '-' and '_'"
        )));
    }
    Ok(())
}

fn check_controller(name: &str) -> Result<(), UsageError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(usage(format!(
            "--controllers: {name:?} is not a controller name"
        )));
    }
    Ok(())
}

fn format_limit(value: Option<u64>) -> String {
    value.map_or_else(|| "infinity".to_owned(), |v| v.to_string())
}

#[allow(
    clippy::option_option,
    reason = "None: not a limit; Some(None): infinity"
)]
fn parse_limit(text: &str) -> Option<Option<u64>> {
    if text == "infinity" {
        Some(None)
    } else {
        text.parse().ok().map(Some)
    }
}

/// `--write FILE=VALUE`'s value.
fn parse_write(arg: &str) -> Result<CgroupWrite, UsageError> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| usage(format!("--write {arg:?}: expected FILE=VALUE")))?;
    let file = InterfaceFile::parse(name).map_err(|why: UnsafeName| {
        usage(format!(
            "--write {name:?}: refused to write this file: {why}"
        ))
    })?;
    Ok(CgroupWrite::new(file, value))
}

impl Rlimit {
    fn parse(arg: &str) -> Result<Rlimit, UsageError> {
        let bad = || usage(format!("--rlimit {arg:?}: expected NAME=SOFT:HARD"));
        let (name, limits) = arg.split_once('=').ok_or_else(bad)?;
        let resource = Resource::from_name(name)
            .ok_or_else(|| usage(format!("--rlimit {arg:?}: unknown resource {name:?}")))?;
        let (soft, hard) = limits.split_once(':').ok_or_else(bad)?;
        Ok(Rlimit {
            resource,
            soft: parse_limit(soft).ok_or_else(bad)?,
            hard: parse_limit(hard).ok_or_else(bad)?,
        })
    }
}

impl fmt::Display for Rlimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}:{}",
            self.resource.name(),
            format_limit(self.soft),
            format_limit(self.hard)
        )
    }
}

impl LaunchSpec {
    /// Whether the launcher has any cgroup work to do; without it, it only applies the process
    /// settings and execs.
    pub fn touches_cgroups(&self) -> bool {
        self.leaf.is_some() || !self.controllers.is_empty() || !self.writes.is_empty()
    }

    /// The controllers to enable: the explicit ones, then those the writes need, without
    /// repetition, in first-seen order.
    pub fn needed_controllers(&self) -> Vec<String> {
        let mut needed: Vec<String> = Vec::new();
        let from_writes = self.writes.iter().map(|w| w.file.controller());
        for controller in self
            .controllers
            .iter()
            .map(String::as_str)
            .chain(from_writes)
        {
            if !needed.iter().any(|c| c == controller) {
                needed.push(controller.to_owned());
            }
        }
        needed
    }

    /// The launcher's arguments (without argv\[0\]), in the order [`LaunchSpec::parse`] reads them.
    pub fn to_args(&self) -> Vec<String> {
        self.to_arg_groups().into_iter().flatten().collect()
    }

    /// The arguments grouped as one option with its value per group, then `--` with the command,
    /// so a unit file can show one option per line.
    pub fn to_arg_groups(&self) -> Vec<Vec<String>> {
        let mut args = Vec::new();
        let mut option = |name: &str, value: String| args.push(vec![name.to_owned(), value]);
        if let Some(leaf) = &self.leaf {
            option("--leaf", leaf.clone());
        }
        if let Some(supervisor) = &self.supervisor {
            option("--supervisor", supervisor.clone());
        }
        if !self.controllers.is_empty() {
            option("--controllers", self.controllers.join(","));
        }
        for write in &self.writes {
            option("--write", write.to_string());
        }
        if let Some(cwd) = &self.cwd {
            option("--cwd", cwd.clone());
        }
        if let Some(umask) = self.umask {
            option("--umask", format!("{umask:04o}"));
        }
        for rlimit in &self.rlimits {
            option("--rlimit", rlimit.to_string());
        }
        if let Some(adj) = self.oom_score_adj {
            option("--oom-score-adj", adj.to_string());
        }
        if let Some(mask) = self.capability_bounding_set {
            option(
                "--capability-bounding-set",
                crate::capability::names(mask).join(","),
            );
        }
        for var in &self.env {
            option("--env", var.clone());
        }
        let flags = [
            (self.best_effort, "--best-effort"),
            (self.clear_env, "--clear-env"),
            (self.no_new_privs, "--no-new-privs"),
        ];
        for (set, flag) in flags {
            if set {
                args.push(vec![flag.to_owned()]);
            }
        }
        let mut command = vec!["--".to_owned()];
        command.extend(self.command.iter().cloned());
        args.push(command);
        args
    }

    /// Parses the launcher's arguments (without argv\[0\]).
    pub fn parse<I>(args: I) -> Result<Invocation, UsageError>
    where
        I: IntoIterator<Item = String>,
    {
        let mut spec = LaunchSpec::default();
        let mut args = args.into_iter();
        loop {
            let Some(arg) = args.next() else {
                return Err(usage("missing '--' and the program to run"));
            };
            let mut value = || {
                args.next()
                    .ok_or_else(|| usage(format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--" => break,
                "--help" => return Ok(Invocation::Help),
                "--version" => return Ok(Invocation::Version),
                "--leaf" => {
                    let leaf = value()?;
                    check_leaf_name(&leaf)?;
                    once(&mut spec.leaf, &arg, leaf)?;
                }
                "--supervisor" => {
                    let supervisor = value()?;
                    check_leaf_name(&supervisor)?;
                    once(&mut spec.supervisor, &arg, supervisor)?;
                }
                "--controllers" => {
                    for controller in value()?.split(',') {
                        check_controller(controller)?;
                        spec.controllers.push(controller.to_owned());
                    }
                }
                "--write" => spec.writes.push(parse_write(&value()?)?),
                "--env" => {
                    let var = value()?;
                    if !var.contains('=') {
                        return Err(usage(format!("--env {var:?}: expected NAME=VALUE")));
                    }
                    spec.env.push(var);
                }
                "--cwd" => {
                    let dir = value()?;
                    once(&mut spec.cwd, &arg, dir)?;
                }
                "--umask" => {
                    let text = value()?;
                    let umask = u32::from_str_radix(&text, 8)
                        .ok()
                        .filter(|m| *m <= 0o777)
                        .ok_or_else(|| {
                            usage(format!("--umask {text:?}: expected octal 0000..0777"))
                        })?;
                    once(&mut spec.umask, &arg, umask)?;
                }
                "--rlimit" => {
                    let rlimit = Rlimit::parse(&value()?)?;
                    if spec.rlimits.iter().any(|r| r.resource == rlimit.resource) {
                        return Err(usage(format!(
                            "--rlimit {}: given twice for RLIMIT_{}",
                            rlimit,
                            rlimit.resource.name()
                        )));
                    }
                    spec.rlimits.push(rlimit);
                }
                "--oom-score-adj" => {
                    let text = value()?;
                    let adj = text
                        .parse::<i32>()
                        .ok()
                        .filter(|a| (-1000..=1000).contains(a))
                        .ok_or_else(|| {
                            usage(format!("--oom-score-adj {text:?}: expected -1000..1000"))
                        })?;
                    once(&mut spec.oom_score_adj, &arg, adj)?;
                }
                "--capability-bounding-set" => {
                    let list = value()?;
                    let mask = crate::capability::parse_list(&list, ',').map_err(|why| {
                        usage(format!("--capability-bounding-set {list:?}: {why}"))
                    })?;
                    once(&mut spec.capability_bounding_set, &arg, mask)?;
                }
                "--best-effort" => spec.best_effort = true,
                "--clear-env" => spec.clear_env = true,
                "--no-new-privs" => spec.no_new_privs = true,
                other => return Err(usage(format!("unknown option {other:?}"))),
            }
        }
        spec.command = args.collect();
        if spec.command.is_empty() {
            return Err(usage("no program after '--'"));
        }
        Ok(Invocation::Launch(Box::new(spec)))
    }
}

/// What the launcher's command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    Launch(Box<LaunchSpec>),
    /// `--help`: print [`USAGE`].
    Help,
    /// `--version`.
    Version,
}

#[cfg(test)]
impl Invocation {
    pub fn launch(self) -> LaunchSpec {
        match self {
            Invocation::Launch(spec) => *spec,
            other => panic!("not a launch: {other:?}"),
        }
    }
}

/// Sets an option that takes one value: a second one is more likely a hand-edited unit gone
/// wrong than a wish for the last to win.
fn once<T>(slot: &mut Option<T>, option: &str, value: T) -> Result<(), UsageError> {
    if slot.is_some() {
        return Err(usage(format!("{option} given twice")));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LaunchSpec {
        LaunchSpec {
            leaf: Some("payload".into()),
            supervisor: Some("supervisor".into()),
            controllers: vec!["cpu".into(), "memory".into()],
            writes: vec![
                CgroupWrite::new(InterfaceFile::parse("memory.max").unwrap(), "1000000000"),
                CgroupWrite::new(InterfaceFile::parse("hugetlb.2MB.max").unwrap(), "max"),
                CgroupWrite::new(
                    InterfaceFile::parse("rdma.max").unwrap(),
                    "mlx5_1 hca_handle=3\nmlx4 hca_object=2",
                ),
            ],
            best_effort: true,
            clear_env: true,
            env: vec!["A=b=c".into(), "EMPTY=".into()],
            cwd: Some("/srv/my dir".into()),
            umask: Some(0o022),
            rlimits: vec![Rlimit {
                resource: Resource::Nofile,
                soft: Some(1024),
                hard: None,
            }],
            oom_score_adj: Some(-500),
            no_new_privs: true,
            capability_bounding_set: Some((1 << 5) | (1 << 10)),
            command: vec![
                "/bin/sh".into(),
                "--".into(),
                "--leaf".into(),
                String::new(),
            ],
        }
    }

    #[test]
    fn what_the_compiler_emits_the_launcher_reads_back() {
        let spec = sample();
        assert_eq!(LaunchSpec::parse(spec.to_args()).unwrap().launch(), spec);
        let bare = LaunchSpec {
            command: vec!["true".into()],
            ..LaunchSpec::default()
        };
        assert_eq!(bare.to_args(), ["--", "true"]);
        assert_eq!(LaunchSpec::parse(bare.to_args()).unwrap().launch(), bare);
        let none = LaunchSpec {
            capability_bounding_set: Some(0),
            ..bare
        };
        assert_eq!(
            none.to_args(),
            ["--capability-bounding-set", "", "--", "true"]
        );
        assert_eq!(LaunchSpec::parse(none.to_args()).unwrap().launch(), none);
    }

    #[test]
    fn controllers_include_those_the_writes_need() {
        assert_eq!(
            sample().needed_controllers(),
            ["cpu", "memory", "hugetlb", "rdma"]
        );
    }

    #[test]
    fn refuses_what_a_hand_edited_unit_might_ask_for() {
        let parse =
            |args: &[&str]| LaunchSpec::parse(args.iter().map(std::string::ToString::to_string));
        for bad in [
            &["--write", "cgroup.procs=1", "--", "x"][..],
            &["--write", "../../memory.max=1", "--", "x"],
            &["--write", "memory.max", "--", "x"],
            &["--leaf", "..", "--", "x"],
            &["--leaf", "a/b", "--", "x"],
            &["--supervisor", "a/b", "--", "x"],
            &["--controllers", "cpu,,io", "--", "x"],
            &["--umask", "999", "--", "x"],
            &["--rlimit", "NOFILES=1:2", "--", "x"],
            &["--oom-score-adj", "1001", "--", "x"],
            &["--capability-bounding-set", "CAP_KILL,kill", "--", "x"],
            &["--env", "NOEQUALS", "--", "x"],
            &["--bogus", "--", "x"],
            &["--leaf"],
            &["--"],
            &[],
            &["--leaf", "a", "--leaf", "b", "--", "x"],
            &["--cwd", "/a", "--cwd", "/b", "--", "x"],
            &["--umask", "022", "--umask", "077", "--", "x"],
            &["--oom-score-adj", "1", "--oom-score-adj", "2", "--", "x"],
            &[
                "--rlimit",
                "NOFILE=1:2",
                "--rlimit",
                "NOFILE=3:4",
                "--",
                "x",
            ],
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
        let err = parse(&["--leaf", "a", "--leaf", "b", "--", "x"]).unwrap_err();
        assert_eq!(err.to_string(), "--leaf given twice");
    }

    #[test]
    fn help_and_version_come_before_everything_else() {
        let parse =
            |args: &[&str]| LaunchSpec::parse(args.iter().map(std::string::ToString::to_string));
        assert_eq!(parse(&["--help"]), Ok(Invocation::Help));
        assert_eq!(parse(&["--version"]), Ok(Invocation::Version));
        assert_eq!(
            parse(&["--leaf", "x", "--help", "--bogus"]),
            Ok(Invocation::Help)
        );
        let payload = parse(&["--", "prog", "--help"]).unwrap().launch();
        assert_eq!(payload.command, ["prog", "--help"]);
    }

    /// The usage text is the grammar: every option it lists is one the parser knows, and every
    /// option the compiler emits is listed.
    #[test]
    fn the_usage_text_lists_exactly_the_options() {
        let listed: Vec<&str> = USAGE
            .lines()
            .filter_map(|line| line.trim_start().split(' ').next())
            .filter(|word| word.starts_with("--") && word.len() > 2)
            .collect();
        assert!(listed.len() >= 13, "{listed:?}");
        for option in &listed {
            let err = LaunchSpec::parse([option.to_string()]);
            assert!(
                !matches!(&err, Err(e) if e.0.starts_with("unknown option")),
                "{option}"
            );
        }
        for arg in sample().to_args().iter().take_while(|a| *a != "--") {
            if arg.starts_with("--") {
                assert!(listed.contains(&arg.as_str()), "{arg} is not in USAGE");
            }
        }
    }

    /// The man page is built from USAGE: it must list the same options, with their values.
    #[test]
    fn the_manual_lists_the_options_of_the_usage_text() {
        let command = super::super::manual::command();
        let mut longs: Vec<String> = command
            .get_arguments()
            .filter_map(|arg| arg.get_long())
            .map(|long| format!("--{long}"))
            .collect();
        let mut listed: Vec<String> = USAGE
            .lines()
            .filter_map(|line| line.strip_prefix("  --"))
            .filter_map(|rest| rest.split(' ').next())
            .filter(|name| !name.is_empty())
            .map(|name| format!("--{name}"))
            .collect();
        longs.sort();
        listed.sort();
        assert_eq!(longs, listed);
        for option in &longs {
            let err = LaunchSpec::parse([option.clone()]);
            assert!(
                !matches!(&err, Err(e) if e.0.starts_with("unknown option")),
                "{option}"
            );
        }
        let values = |long: &str| {
            let arg = command.get_arguments().find(|a| a.get_long() == Some(long));
            arg.and_then(|a| a.get_value_names()).map(|v| v.join(" "))
        };
        assert_eq!(values("rlimit").as_deref(), Some("NAME=SOFT:HARD"));
        assert_eq!(values("capability-bounding-set").as_deref(), Some("LIST"));
        assert_eq!(values("no-new-privs"), None);
        let rendered = command.clone().render_long_help().to_string();
        assert!(
            rendered.contains("repeatable, once per resource"),
            "{rendered}"
        );
    }
}
