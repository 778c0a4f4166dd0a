//! The arguments several subcommands share: the bundle and its target, the manager, the unit
//! directory, the runtime and the launcher.

use std::path::{Path, PathBuf};

use clap::Args;

use ociunit::bundle::Bundle;
use ociunit::compile::{self, Context, Request};
use ociunit::error::Error;
use ociunit::render::unit;
use ociunit::target::{self, Manager, Target};

#[derive(Args)]
pub(super) struct ManagerArgs {
    /// Use the user manager (the default for non-root).
    #[arg(long, conflicts_with = "system")]
    pub(super) user: bool,
    /// Use the system manager (the default for root).
    #[arg(long)]
    pub(super) system: bool,
}

impl ManagerArgs {
    pub(super) fn manager(&self) -> Manager {
        match (self.user, self.system) {
            (true, _) => Manager::User,
            (_, true) => Manager::System,
            _ => Manager::for_current_user(),
        }
    }
}

#[derive(Args)]
pub(super) struct UnitDirArg {
    /// The unit directory [default: ~/.config/systemd/user or /etc/systemd/system].
    #[arg(long, value_name = "DIR")]
    pub(super) unit_dir: Option<PathBuf>,
}

#[derive(Args)]
pub(super) struct TargetArgs {
    /// A bundle directory, or its config.json.
    pub(super) bundle: PathBuf,
    /// The unit name [default: the bundle directory's name].
    #[arg(long)]
    pub(super) name: Option<String>,
    #[command(flatten)]
    pub(super) manager: ManagerArgs,
    /// The target systemd version, 239 or later [default: the local one, else 252].
    #[arg(long, value_name = "N", value_parser = systemd_version)]
    pub(super) systemd_version: Option<u32>,
    #[command(flatten)]
    pub(super) runtime: RuntimeArgs,
}

#[derive(Args, Clone)]
pub(super) struct RuntimeArgs {
    #[command(flatten)]
    pub(super) choice: RuntimeChoice,
    /// Where container mode keeps the runtime's config derived from the bundle
    /// [default: ~/.local/state/ociunit or /var/lib/ociunit].
    #[arg(long, value_name = "DIR")]
    pub(super) state_dir: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub(super) struct RuntimeChoice {
    /// Run the bundle as a container with crun or runc (auto: when root.path is a non-empty
    /// directory, with the first one installed), or on the host (none).
    #[arg(long, value_name = "auto|none|crun|runc|PATH", default_value = "auto",
          value_parser = ociunit::runtime::Choice::parse)]
    pub(super) runtime: ociunit::runtime::Choice,
    /// The runtime's version, instead of asking it (to compile for another machine).
    #[arg(long, value_name = "VERSION")]
    pub(super) runtime_version: Option<String>,
}

/// `--systemd-version`, else [`target::local_target`].
pub(super) fn systemd_target(explicit: Option<u32>) -> Result<u32, Error> {
    explicit.map_or_else(target::local_target, Ok)
}

/// `--systemd-version`: a number, no older than ociunit supports.
pub(super) fn systemd_version(text: &str) -> Result<u32, String> {
    target::supported(text.parse().map_err(|err| format!("{err}"))?)
}

impl TargetArgs {
    /// The request, for the local systemd unless `--systemd-version` names one.
    pub(super) fn request(&self, best_effort: bool) -> Result<Request, Error> {
        Ok(self.request_for(best_effort, systemd_target(self.systemd_version)?))
    }

    /// The request for commands that ask the manager for its version themselves (`run`,
    /// `doctor`, `apply`), which need not spawn `systemctl --version` first.
    pub(super) fn request_for(&self, best_effort: bool, systemd: u32) -> Request {
        Request {
            name: self.name.clone(),
            best_effort,
            runtime: self.runtime.choice.runtime.clone(),
            runtime_version: self.runtime.choice.runtime_version.clone(),
            state_dir: self.runtime.state_dir.clone(),
            ..Request::new(Target {
                manager: self.manager.manager(),
                systemd,
            })
        }
    }
}

#[derive(Args)]
pub(super) struct CompileArgs {
    #[command(flatten)]
    pub(super) target: TargetArgs,
    /// Absolute path of ociunit-launch for ExecStart= [default: next to this executable].
    #[arg(long, value_name = "PATH")]
    pub(super) launcher: Option<PathBuf>,
    /// Make every field that would be dropped an error.
    #[arg(long)]
    pub(super) strict: bool,
    /// Let the launcher start the payload even when a cgroup write fails (with a warning).
    #[arg(long)]
    pub(super) best_effort: bool,
}

impl CompileArgs {
    pub(super) fn launcher(&self) -> Result<PathBuf, Error> {
        launcher(self.launcher.as_deref())
    }

    pub(super) fn request(&self) -> Result<Request, Error> {
        Ok(Request {
            strict: self.strict,
            ..self.target.request(self.best_effort)?
        })
    }

    /// Compiles to unit text; the warnings are the caller's to report.
    pub(super) fn unit_text(&self) -> Result<(ociunit::plan::Plan, String, Vec<String>), Error> {
        let bundle = Bundle::load(&self.target.bundle)?;
        let request = self.request()?;
        let (plan, warnings) =
            compile::with_warnings(&bundle, &request, &Context::installed(&request))?;
        let text = unit::render(&plan, &self.launcher()?)?;
        Ok((plan, text, warnings))
    }
}

/// `--launcher`, which must be absolute, or the ociunit-launch beside this executable.
pub(super) fn launcher(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    match explicit {
        Some(path) if path.is_absolute() => Ok(path.to_owned()),
        Some(path) => Err(Error::Usage(format!(
            "--launcher {}: must be an absolute path",
            path.display()
        ))),
        None => {
            let exe = std::env::current_exe()
                .map_err(|err| Error::sys("find this executable to locate ociunit-launch", err))?;
            Ok(exe.with_file_name("ociunit-launch"))
        }
    }
}
