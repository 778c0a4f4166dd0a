//! The `ociunit` command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use ociunit::bundle::Bundle;
use ociunit::compile::{self, ConfigHome, ContainerRequest, Request};
use ociunit::error::Error;
use ociunit::generator;
use ociunit::lifecycle::{self, apply, diff, install, list, status, uninstall};
use ociunit::output::{self, Replaced};
use ociunit::render::dbus::RunOptions;
use ociunit::render::{explain, unit};
use ociunit::run;
use ociunit::target::{self, Manager, Target};

#[derive(Parser)]
#[command(
    version,
    about = "Compile OCI runtime bundles into systemd units with cgroup v2 limits",
    after_long_help = "Exit status: 0 success; 2 invalid input (the message names the file and \
        the JSON path; nothing is written); 1 anything else. `diff` exits 1 when the units \
        differ; `apply` exits 3 when a change needs a restart; `run` exits with the payload's \
        status."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a bundle into a .service unit (stdout, or -o PATH).
    Compile {
        #[command(flatten)]
        compile: CompileArgs,
        /// Write the unit to PATH atomically instead of printing it (`-` is stdout). PATH must
        /// be a regular file or not exist; a symlink or device is refused.
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// With -o: replace a unit ociunit did not generate, one edited since, or one generated
        /// from another bundle, keeping a backup.
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Show where each field of the bundle went.
    Explain {
        #[command(flatten)]
        target: TargetArgs,
        /// Print the stable JSON form.
        #[arg(long)]
        json: bool,
    },
    /// Run a bundle now as a transient scope or service, like systemd-run.
    Run(Box<RunArgs>),
    /// Compile into the unit directory, reload, and optionally enable and start.
    Install {
        #[command(flatten)]
        compile: CompileArgs,
        #[command(flatten)]
        dir: UnitDirArg,
        /// Enable the unit (EnableUnitFiles) so it starts at boot or login.
        #[arg(long)]
        enable: bool,
        /// Start it now (restart it if it changed) and report the job's result.
        #[arg(long)]
        now: bool,
        /// Replace a unit ociunit did not generate, one edited since, or one generated from
        /// another bundle, keeping a backup.
        #[arg(long)]
        force: bool,
        /// Print the files and D-Bus calls instead of making them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Change an installed unit's limits in place from its edited bundle: rewrite the unit,
    /// apply the limits to the running unit, and report what still needs a restart (exit 0 all
    /// applied live, 3 a restart is needed, 1 a change failed, 2 invalid input).
    Apply {
        #[command(flatten)]
        compile: CompileArgs,
        #[command(flatten)]
        dir: UnitDirArg,
        /// Compare and report, change nothing (exit 3 if a restart would be needed).
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON (format `ociunit-apply/1`).
        #[arg(long)]
        json: bool,
        /// Restart the unit when a change needs it.
        #[arg(long)]
        restart: bool,
        /// Replace a unit ociunit did not generate or one edited since, keeping a backup.
        #[arg(long)]
        force: bool,
    },
    /// Show what install would change, as a unified diff (exit 0 same, 1 different, 2 error).
    Diff {
        #[command(flatten)]
        compile: CompileArgs,
        #[command(flatten)]
        dir: UnitDirArg,
    },
    /// List the units ociunit generated, with drift and state.
    List {
        #[command(flatten)]
        manager: ManagerArgs,
        #[command(flatten)]
        dir: UnitDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Show a unit's state, limits and usage.
    Status {
        #[command(flatten)]
        manager: ManagerArgs,
        /// The unit (NAME or NAME.service).
        unit: String,
    },
    /// Check why a limit cannot apply on this host, and print the fix (exit 1 if something
    /// the bundle needs is missing).
    Doctor {
        /// A bundle whose needs to check, with a trial of its launcher writes.
        bundle: Option<PathBuf>,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Absolute path of ociunit-launch for the trial [default: next to this executable].
        #[arg(long, value_name = "PATH")]
        launcher: Option<PathBuf>,
        #[command(flatten)]
        runtime: RuntimeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Stop, disable and remove a unit ociunit generated, then reload.
    Uninstall {
        #[command(flatten)]
        manager: ManagerArgs,
        #[command(flatten)]
        dir: UnitDirArg,
        /// The unit (NAME or NAME.service).
        unit: String,
        /// Do not stop the unit.
        #[arg(long)]
        keep_running: bool,
        /// Remove a unit edited since ociunit generated it, keeping a backup.
        #[arg(long)]
        force: bool,
    },
    /// Write a unit for every declared bundle, as a systemd generator: invoked by systemd as
    /// ociunit-generator NORMAL_DIR EARLY_DIR LATE_DIR (see systemd.generator(7)).
    Generate(Box<GenerateArgs>),
    /// Print the shell completion script for ociunit.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Write the man pages of ociunit, its subcommands and ociunit-launch into DIR.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Args)]
struct ManagerArgs {
    /// Use the user manager (the default for non-root).
    #[arg(long, conflicts_with = "system")]
    user: bool,
    /// Use the system manager (the default for root).
    #[arg(long)]
    system: bool,
}

impl ManagerArgs {
    fn manager(&self) -> Manager {
        match (self.user, self.system) {
            (true, _) => Manager::User,
            (_, true) => Manager::System,
            _ => Manager::for_current_user(),
        }
    }
}

#[derive(Args)]
struct UnitDirArg {
    /// The unit directory [default: ~/.config/systemd/user or /etc/systemd/system].
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
}

#[derive(Args)]
struct TargetArgs {
    /// A bundle directory, or its config.json.
    bundle: PathBuf,
    /// The unit name [default: the bundle directory's name].
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    manager: ManagerArgs,
    /// The target systemd version, 239 or later [default: the local one, else 252].
    #[arg(long, value_name = "N", value_parser = systemd_version)]
    systemd_version: Option<u32>,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[derive(Args, Clone)]
struct RuntimeArgs {
    #[command(flatten)]
    choice: RuntimeChoice,
    /// Where container mode keeps the runtime's config derived from the bundle
    /// [default: ~/.local/state/ociunit or /var/lib/ociunit].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct RuntimeChoice {
    /// Run the bundle as a container with crun or runc (auto: when root.path is a non-empty
    /// directory, with the first one installed), or on the host (none).
    #[arg(long, value_name = "auto|none|crun|runc|PATH", default_value = "auto",
          value_parser = ociunit::runtime::Choice::parse)]
    runtime: ociunit::runtime::Choice,
    /// The runtime's version, instead of asking it (to compile for another machine).
    #[arg(long, value_name = "VERSION")]
    runtime_version: Option<String>,
}

impl RuntimeArgs {
    fn container(&self, home: ConfigHome) -> ContainerRequest {
        ContainerRequest {
            runtime: self.choice.runtime.clone(),
            version: self.choice.runtime_version.clone(),
            home: match home {
                ConfigHome::Persistent(_) => ConfigHome::Persistent(self.state_dir.clone()),
                ConfigHome::Transient => ConfigHome::Transient,
            },
            terminal: false,
            unit: None,
            resolved: None,
        }
    }
}

/// `--systemd-version`, else the local systemd's, else [`target::FALLBACK_SYSTEMD`].
fn systemd_target(explicit: Option<u32>) -> Result<u32, Error> {
    match explicit {
        Some(version) => Ok(version),
        None => Ok(target::local_systemd_version()
            .map(target::supported)
            .transpose()
            .map_err(|why| Error::Usage(format!("the local {why}; give --systemd-version")))?
            .unwrap_or(target::FALLBACK_SYSTEMD)),
    }
}

/// `--systemd-version`: a number, no older than ociunit supports.
fn systemd_version(text: &str) -> Result<u32, String> {
    target::supported(text.parse().map_err(|err| format!("{err}"))?)
}

impl TargetArgs {
    /// The request, for the local systemd unless `--systemd-version` names one.
    fn request(&self, best_effort: bool) -> Result<Request, Error> {
        Ok(self.request_for(best_effort, systemd_target(self.systemd_version)?))
    }

    /// The request for commands that ask the manager for its version themselves (`run`,
    /// `doctor`), which need not spawn `systemctl --version` first.
    fn request_for(&self, best_effort: bool, systemd: u32) -> Request {
        Request {
            name: self.name.clone(),
            target: Target {
                manager: self.manager.manager(),
                systemd,
            },
            best_effort,
            manager_uid: rustix::process::getuid().as_raw(),
            container: self.runtime.container(ConfigHome::Persistent(None)),
            strict: false,
            quiet: false,
            overrides: Vec::new(),
        }
    }
}

#[derive(Args)]
struct CompileArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Absolute path of ociunit-launch for ExecStart= [default: next to this executable].
    #[arg(long, value_name = "PATH")]
    launcher: Option<PathBuf>,
    /// Make every field that would be dropped an error.
    #[arg(long)]
    strict: bool,
    /// Let the launcher start the payload even when a cgroup write fails (with a warning).
    #[arg(long)]
    best_effort: bool,
}

impl CompileArgs {
    fn launcher(&self) -> Result<PathBuf, Error> {
        launcher(self.launcher.as_deref())
    }

    fn request(&self) -> Result<Request, Error> {
        Ok(Request {
            strict: self.strict,
            ..self.target.request(self.best_effort)?
        })
    }

    /// Compiles to unit text.
    fn unit_text(&self) -> Result<(ociunit::plan::Plan, String), Error> {
        let plan = compile::compile(&self.target.bundle, &self.request()?)?;
        let text = unit::render(&plan, &self.launcher()?)?;
        Ok((plan, text))
    }
}

/// `--launcher`, which must be absolute, or the ociunit-launch beside this executable.
fn launcher(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    match explicit {
        Some(path) if path.is_absolute() => Ok(path.to_owned()),
        Some(path) => Err(Error::Usage(format!(
            "--launcher {}: must be an absolute path",
            path.display()
        ))),
        None => {
            let exe = std::env::current_exe().map_err(|err| {
                Error::Host(format!(
                    "cannot find this executable to locate ociunit-launch: {err}"
                ))
            })?;
            Ok(exe.with_file_name("ociunit-launch"))
        }
    }
}

#[derive(Args)]
struct GenerateArgs {
    /// The manager [default: $SYSTEMD_SCOPE, else as for the other commands].
    #[command(flatten)]
    manager: ManagerArgs,
    /// Print every file it would write, and every error (exit 2 if a bundle is invalid).
    #[arg(long)]
    dry_run: bool,
    /// The declared bundles [default: ~/.config/ociunit/bundles or /etc/ociunit/bundles].
    #[arg(long, value_name = "DIR")]
    bundles: Option<PathBuf>,
    /// The target systemd version [default: the local one, else 252].
    #[arg(long, value_name = "N", value_parser = systemd_version)]
    systemd_version: Option<u32>,
    /// Absolute path of ociunit-launch for ExecStart= [default: next to this executable].
    #[arg(long, value_name = "PATH")]
    launcher: Option<PathBuf>,
    #[command(flatten)]
    runtime: RuntimeChoice,
    /// systemd's output directories; only the first is written [default with --dry-run:
    /// /run/systemd/generator or /run/user/UID/systemd/generator].
    #[arg(value_names = ["NORMAL_DIR", "EARLY_DIR", "LATE_DIR"], num_args = 0..=3)]
    dirs: Vec<PathBuf>,
}

impl GenerateArgs {
    fn generate(self) -> Result<u8, Error> {
        let manager = match (self.manager.user, self.manager.system) {
            (false, false) => generator::scope_from_env().unwrap_or_else(Manager::for_current_user),
            _ => self.manager.manager(),
        };
        let uid = rustix::process::getuid().as_raw();
        let output = match (self.dirs.first(), self.dry_run) {
            (Some(dir), _) => dir.clone(),
            (None, true) => generator::default_output_dir(manager, uid),
            (None, false) => {
                return Err(Error::Usage(
                    "give the output directory (NORMAL_DIR), or --dry-run".into(),
                ));
            }
        };
        let request = generator::GenerateRequest {
            manager,
            systemd: systemd_target(self.systemd_version)?,
            manager_uid: uid,
            bundles: match self.bundles {
                Some(dir) => dir,
                None => generator::bundles_dir(manager)?,
            },
            output,
            dry_run: self.dry_run,
            launcher: launcher(self.launcher.as_deref())?,
            runtime: self.runtime.runtime,
            runtime_version: self.runtime.runtime_version,
        };
        // A system generator's stderr is the console, not the journal: the kernel log is.
        let mut kmsg = (manager == Manager::System
            && !self.dry_run
            && generator::scope_from_env() == Some(Manager::System))
        .then(|| {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/kmsg")
                .ok()
        })
        .flatten();
        let mut log = |line: &str| match &mut kmsg {
            Some(kmsg) => {
                let _ = writeln!(kmsg, "<3>{}: {line}", generator::GENERATOR_NAME);
            }
            None => eprintln!("ociunit: {line}"),
        };
        let generated = generator::generate(&request, &mut std::io::stdout(), &mut log)?;
        Ok(if generated.failed == 0 { 0 } else { 2 })
    }
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    compile: CompileArgs,
    /// Run in a transient scope around this process; the payload inherits the terminal
    /// [default when stdin is a terminal].
    #[arg(long, conflicts_with = "service")]
    scope: bool,
    /// Run as a transient service whose ExecStart= is the launcher [default otherwise].
    #[arg(long)]
    service: bool,
    /// The transient unit's name [default: the bundle's name with a random suffix].
    #[arg(long, value_name = "NAME")]
    unit: Option<String>,
    /// Put the unit in this slice.
    #[arg(long, value_name = "SLICE")]
    slice: Option<String>,
    /// The unit's description.
    #[arg(long)]
    description: Option<String>,
    /// Override a property, systemd-run style (MemoryMax=512M, CPUQuota=50%, …).
    #[arg(short = 'p', long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// Wait for the service to end, report, and exit with its status.
    #[arg(long)]
    wait: bool,
    /// Connect the service's stdin, stdout and stderr to ours (implies --wait).
    #[arg(short = 'P', long)]
    pipe: bool,
    /// Unload the unit even if it failed (CollectMode=inactive-or-failed).
    #[arg(short = 'G', long)]
    collect: bool,
    /// Do not wait for the start job to finish.
    #[arg(long, conflicts_with_all = ["wait", "pipe", "scope"])]
    no_block: bool,
    /// Print no status lines or warnings.
    #[arg(short, long)]
    quiet: bool,
    /// Print the unit name and, with --wait, its result as JSON (service mode).
    #[arg(long)]
    json: bool,
    /// Print the StartTransientUnit call instead of making it.
    #[arg(long)]
    dry_run: bool,
}

impl RunArgs {
    fn request(self) -> Result<run::RunRequest, Error> {
        let mode = match (self.scope, self.service) {
            (true, _) => run::Mode::Scope,
            (_, true) => run::Mode::Service,
            _ if (self.wait || self.pipe || self.json) => run::Mode::Service,
            _ if std::io::stdin().is_terminal() => run::Mode::Scope,
            _ => run::Mode::Service,
        };
        if mode == run::Mode::Scope && (self.wait || self.pipe || self.json) {
            return Err(Error::Usage(
                "--wait, --pipe and --json apply to --service: a scope runs the payload in this process".into(),
            ));
        }
        let request = match self.dry_run {
            true => self.compile.request()?,
            false => Request {
                strict: self.compile.strict,
                ..self
                    .compile
                    .target
                    .request_for(self.compile.best_effort, target::FALLBACK_SYSTEMD)
            },
        };
        let request = Request {
            quiet: self.quiet,
            overrides: self.properties,
            ..request
        };
        Ok(run::RunRequest {
            bundle: self.compile.target.bundle.clone(),
            request,
            mode,
            unit: self.unit,
            options: RunOptions {
                description: self.description,
                slice: self.slice,
                collect: self.collect,
                add_ref: false,
            },
            launcher: self.compile.launcher()?,
            wait: self.wait,
            pipe: self.pipe,
            no_block: self.no_block,
            json: self.json,
            dry_run: self.dry_run,
        })
    }
}

/// Runs a command; `Ok` carries the exit status.
fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Compile {
            compile,
            output,
            force,
        } => {
            let (plan, text) = compile.unit_text()?;
            // The unit names the runtime's config (RuntimeConfig=), so it must exist first.
            if let Some(container) = &plan.container {
                output::write_runtime_config(container)?;
            }
            match output {
                Some(path) if path.as_os_str() != "-" => {
                    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                    let lock = output::lock_dir(dir.unwrap_or(Path::new(".")))?;
                    if let Replaced::BackedUp(backup) =
                        output::write_unit(&lock, &path, &text, force)?
                    {
                        eprintln!("ociunit: kept the previous file as {}", backup.display());
                    }
                }
                _ => print(&text)?,
            }
            Ok(0)
        }
        Command::Explain { target, json } => {
            let bundle = Bundle::load(&target.bundle)?;
            let plan = compile::plan(&bundle, &target.request(false)?)?;
            print(&if json {
                explain::json(&plan)
            } else {
                explain::text(&plan)?
            })?;
            Ok(if plan.errors().is_empty() { 0 } else { 2 })
        }
        Command::Run(args) => {
            let status = run::run(&args.request()?)?;
            Ok(u8::try_from(status).unwrap_or(1))
        }
        Command::Install {
            compile,
            dir,
            enable,
            now,
            force,
            dry_run,
        } => {
            let request = install::InstallRequest {
                bundle: compile.target.bundle.clone(),
                request: compile.request()?,
                launcher: compile.launcher()?,
                unit_dir: dir.unit_dir,
                enable,
                now,
                force,
                dry_run,
            };
            install::install(&request)?;
            Ok(0)
        }
        Command::Apply {
            compile,
            dir,
            dry_run,
            json,
            restart,
            force,
        } => {
            let manager = compile.target.manager.manager();
            let (report, code) = apply::apply(&apply::ApplyRequest {
                bundle: compile.target.bundle.clone(),
                request: compile.request()?,
                launcher: compile.launcher()?,
                unit_dir: dir.unit_dir,
                dry_run,
                restart,
                force,
            })?;
            if json {
                let text = serde_json::to_string_pretty(&report).expect("plain data");
                print(&format!("{text}\n"))?;
            } else {
                print(&apply::text(&report, manager))?;
            }
            Ok(code)
        }
        Command::Diff { compile, dir } => {
            let (plan, text) = compile.unit_text()?;
            let unit_dir =
                lifecycle::unit_dir(compile.target.manager.manager(), dir.unit_dir.as_deref())?;
            let path = unit_dir.join(&plan.unit);
            let installed =
                output::read_unit(&path)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            let mut diffs: Vec<String> = diff::unified(&path, installed.as_deref(), &text)
                .into_iter()
                .collect();
            // The runtime's config is part of what install writes: its drift is a difference too.
            if let Some(container) = &plan.container {
                let config = container.config_dir.join("config.json");
                let on_disk = match std::fs::read_to_string(&config) {
                    Ok(text) => Some(text),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                    Err(err) => return Err(Error::io("cannot read", &config, &err)),
                };
                diffs.extend(diff::unified(
                    &config,
                    on_disk.as_deref(),
                    &container.config_text(),
                ));
            }
            match diffs.is_empty() {
                true => Ok(0),
                false => {
                    print(&diffs.concat())?;
                    Ok(1)
                }
            }
        }
        Command::List { manager, dir, json } => {
            let manager = manager.manager();
            let mut listed = list::scan(&lifecycle::unit_dir(manager, dir.unit_dir.as_deref())?);
            list::add_states(&mut listed, manager);
            if json {
                let text = serde_json::to_string_pretty(&listed).expect("plain data");
                print(&format!("{text}\n"))?;
            } else {
                print(&list::table(&listed))?;
            }
            Ok(0)
        }
        Command::Status { manager, unit } => {
            print(&status::status(
                manager.manager(),
                &compile::unit_name_of(&unit, "service")?,
            )?)?;
            Ok(0)
        }
        Command::Doctor {
            bundle,
            manager,
            launcher,
            runtime,
            json,
        } => {
            let target = TargetArgs {
                bundle: bundle.clone().unwrap_or_default(),
                name: None,
                manager,
                systemd_version: None,
                runtime,
            };
            let compile = CompileArgs {
                target,
                launcher,
                strict: false,
                best_effort: false,
            };
            let report = ociunit::doctor::doctor(&ociunit::doctor::DoctorRequest {
                bundle,
                request: Request {
                    quiet: true,
                    ..compile.request()?
                },
                launcher: compile.launcher()?,
            })?;
            if json {
                print(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report).expect("plain data")
                ))?;
            } else {
                print(&report.text())?;
            }
            Ok(if report.ok { 0 } else { 1 })
        }
        Command::Uninstall {
            manager,
            dir,
            unit,
            keep_running,
            force,
        } => {
            uninstall::uninstall(&uninstall::UninstallRequest {
                manager: manager.manager(),
                unit,
                unit_dir: dir.unit_dir,
                keep_running,
                force,
            })?;
            Ok(0)
        }
        Command::Generate(args) => args.generate(),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ociunit", &mut script);
            print(&String::from_utf8_lossy(&script))?;
            Ok(0)
        }
        Command::Man { dir } => {
            let failed = |err| Error::io("cannot write the man pages into", &dir, &err);
            std::fs::create_dir_all(&dir).map_err(failed)?;
            clap_mangen::generate_to(Cli::command(), &dir).map_err(failed)?;
            clap_mangen::Man::new(ociunit::launch::manual::command())
                .generate_to(&dir)
                .map_err(failed)?;
            Ok(0)
        }
    }
}

fn print(text: &str) -> Result<(), Error> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|err| Error::io("cannot write", Path::new("stdout"), &err))
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // systemd runs a generator with its output directories only: the link's name says which
    // command that is.
    let invoked = args.first().and_then(|arg0| Path::new(arg0).file_name());
    if invoked.is_some_and(|name| name == generator::GENERATOR_NAME) {
        args.insert(1, "generate".into());
    }
    match run(Cli::parse_from(args)) {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            for line in err.to_string().lines() {
                eprintln!("ociunit: {line}");
            }
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
        }
    }
}
