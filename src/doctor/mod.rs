//! `ociunit doctor`: why a limit cannot apply on this host, and the command that fixes it.
//!
//! The checks run in the order a user would fix things: the cgroup hierarchy, the manager, the
//! user bus and lingering, delegation, real-time threads, swap accounting — and with a bundle, a
//! trial: the bundle's own launcher writes in a scratch transient service (the payload replaced
//! by `true`), so the verdict is what `ociunit run` of that bundle would meet.

pub mod checks;
mod container;

use std::fmt::Write;
use std::io::Read;
use std::os::fd::AsFd;
use std::path::PathBuf;

use serde::Serialize;

use crate::cgroupfs::delegation::SYSTEMD_DELEGATES;
use crate::compile::{self, Context, Request};
use crate::error::Error;
use crate::live::{Live, Runs};
use crate::plan::property::ALL;
use crate::plan::{Plan, Spawner};
use crate::render::dbus::{RunOptions, Transient};
use crate::run::{self, Start};
use crate::shell::Shell;
use crate::systemd::{Bus, Via};
use crate::target::{Manager, Target};
use checks::{Check, Root, Status};

pub struct DoctorRequest {
    pub bundle: Option<PathBuf>,
    pub request: Request,
    pub launcher: PathBuf,
}

/// The `--json` document's format; a change to its shape changes the string.
pub const FORMAT: &str = "ociunit-doctor/1";

#[derive(Serialize)]
pub struct Report {
    pub format: &'static str,
    pub checks: Vec<Check>,
    /// Everything the bundle (or, without one, rootless resource management) needs is there.
    pub ok: bool,
}

impl Report {
    pub fn text(&self) -> String {
        let mut text = String::new();
        for check in &self.checks {
            let status = match check.status {
                Status::Ok => "ok",
                Status::Warning => "warning",
                Status::Fail => "FAIL",
                Status::Skipped => "skipped",
            };
            let _ = writeln!(text, "{status:<8} {:<11} {}", check.name, check.detail);
            if let Some(fix) = &check.fix {
                let _ = writeln!(text, "{:<20} fix: {fix}", "");
            }
        }
        text
    }
}

pub fn doctor(request: &DoctorRequest) -> Result<Report, Error> {
    let root = Root(PathBuf::from("/"));
    let manager_kind = request.request.target.manager;
    let uid = rustix::process::getuid().as_raw();
    // The trial holds a reference on its unit, which the manager keeps only for a client on
    // the bus.
    let (bundle, bus) = match &request.bundle {
        Some(path) => {
            let live = Live::open(path, &request.request, Via::Bus, Runs::Transient)?;
            (Some((live.bundle, live.mode)), live.bus)
        }
        None => (None, Bus::open(manager_kind, Via::Bus)),
    };
    let (cgroup_v2, cgroups) = checks::cgroup_v2(&root);
    let mut checks = vec![cgroup_v2];

    let systemd = match &bus {
        Ok(bus) => {
            checks.push(version_check(manager_kind, bus.version));
            bus.version
        }
        Err(err) => {
            checks.push(Check::fail(
                "manager",
                err.to_string(),
                bus_fix(manager_kind),
            ));
            request.request.target.systemd
        }
    };
    if manager_kind == Manager::User {
        checks.push(checks::lingering(&root, uid));
    }

    // In container mode the trial starts the container for real, in a scratch unit named now.
    let trial_unit = format!("ociunit-doctor-{}.service", run::random_suffix());
    let plan = match bundle {
        Some((bundle, mode)) => {
            let plan_request = Request {
                target: Target {
                    systemd,
                    ..request.request.target
                },
                ..request.request.clone()
            };
            let context = Context {
                mode: Some(mode),
                ..Context::transient(&trial_unit)
            };
            // Doctor reports in checks of its own, not in warnings.
            Some(compile::checked(
                &bundle,
                &plan_request,
                &context,
                &Shell::nowhere(),
            )?)
        }
        None => None,
    };
    if let Some(
        plan @ Plan {
            container: Some(c), ..
        },
    ) = &plan
    {
        checks.extend(container::checks(&root, &plan.mode, c, manager_kind));
    }
    let spec = plan.as_ref().map(|p| p.launch_spec(Spawner::Systemd).0);
    let needed: Vec<String> = match &spec {
        Some(spec) => spec.needed_controllers(),
        None => SYSTEMD_DELEGATES
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    };
    let no_cgroup_v2 = "needs the unified cgroup v2 hierarchy (see cgroup v2)";
    checks.push(match &cgroups {
        Some(cgroups) => checks::delegation(cgroups, manager_kind, uid, &needed),
        None => Check::skipped("delegation", no_cgroup_v2),
    });
    checks.push(checks::realtime(&root, needed.iter().any(|c| c == "cpu")));
    let swap = spec.as_ref().is_some_and(|s| {
        s.writes
            .iter()
            .any(|w| w.file.as_str() == "memory.swap.max")
    });
    if plan.is_none() || swap {
        checks.push(match &cgroups {
            Some(cgroups) => checks::swap_accounting(cgroups, manager_kind, uid, swap),
            None => Check::skipped("swap", no_cgroup_v2),
        });
    }
    match (plan, bus) {
        (Some(mut plan), Ok(mut bus)) => {
            checks.push(trial(&mut bus, &mut plan, &request.launcher, &trial_unit));
        }
        (Some(_), Err(_)) => {
            checks.push(Check::skipped("trial", "needs the manager (see manager)"));
        }
        (None, _) => {}
    }
    let ok = checks.iter().all(|c| c.status != Status::Fail);
    Ok(Report {
        format: FORMAT,
        checks,
        ok,
    })
}

fn bus_fix(manager: Manager) -> &'static str {
    match manager {
        Manager::User => {
            "install dbus-user-session (apt install dbus-user-session), enable lingering \
             (loginctl enable-linger $USER), and run from a login session or with \
             XDG_RUNTIME_DIR=/run/user/$(id -u)"
        }
        Manager::System => "run as root on a host booted with systemd",
    }
}

/// The manager's version and what the compiler's version table says it lacks.
fn version_check(manager: Manager, version: u32) -> Check {
    let lacking: Vec<String> = ALL
        .iter()
        .flat_map(|p| {
            let values = [("", p.since)].into_iter().chain(p.newer);
            values
                .filter(|(_, since)| *since > version)
                .map(|(value, since)| format!("{}={value} ({since})", p.key))
        })
        .collect();
    let who = format!(
        "{} manager, systemd {version}",
        if manager == Manager::User {
            "user"
        } else {
            "system"
        }
    );
    if let Err(why) = crate::target::supported(version) {
        return Check::fail(
            "manager",
            format!("{who}: {why}"),
            "upgrade systemd (or the distribution)",
        );
    }
    if lacking.is_empty() {
        return Check::ok(
            "manager",
            format!("{who}: knows every property ociunit uses"),
        );
    }
    Check::ok(
        "manager",
        format!(
            "{who}: lacks {}; the launcher writes those cgroup files instead",
            lacking.join(", ")
        ),
    )
}

/// Runs the bundle's launcher, payload replaced by `true`, as a scratch transient service that
/// is collected afterwards, and reports what the launcher said. In container mode the runtime
/// really builds the container, whose process is replaced by `true`: a root file system
/// without one fails only at the very last step, after namespaces, mounts and the cgroup.
fn trial(bus: &mut Bus, plan: &mut Plan, launcher: &std::path::Path, unit: &str) -> Check {
    const NAME: &str = "trial";
    let what = if let Some(container) = &mut plan.container {
        container.config["process"]["args"] = serde_json::json!(["true"]);
        if let Err(err) = crate::output::write_runtime_config(container) {
            return Check::fail(NAME, err.to_string(), "");
        }
        format!("{} built the container", container.runtime.kind.name())
    } else {
        plan.command = vec!["true".to_owned()];
        String::new()
    };
    let writes = plan.launch_spec(Spawner::Systemd).0.writes.len();
    let result = (|| -> Result<(run::wait::Outcome, String), Error> {
        let (reader, writer) = rustix::pipe::pipe().map_err(|e| Error::sys("make a pipe", e))?;
        rustix::fs::fcntl_setfl(&reader, rustix::fs::OFlags::NONBLOCK)
            .map_err(|e| Error::sys("make a pipe non-blocking", e))?;
        let start = Start {
            unit: unit.to_owned(),
            transient: Transient::Service { launcher },
            options: RunOptions {
                description: Some("ociunit doctor: trial of the launcher's writes".to_owned()),
                slice: None,
                collect: true,
                add_ref: true,
            },
            stdio: Some([rustix::stdio::stdin(), writer.as_fd(), writer.as_fd()]),
            no_block: false,
            strict: false,
            failed_start_is_a_result: true,
        };
        run::start(bus, plan, &start, &Shell::nowhere())?;
        drop(writer);
        let outcome = run::wait::until_done(bus, unit, &Shell::nowhere())?;
        let mut said = String::new();
        let _ = std::fs::File::from(reader).read_to_string(&mut said);
        Ok((outcome, said))
    })();
    let no_true = |said: &str| {
        said.contains("`true` not found") || said.contains("\"true\": executable file not found")
    };
    match result {
        Ok((outcome, said))
            if outcome.exit_status() == 0 || (!what.is_empty() && no_true(&said)) =>
        {
            Check::ok(
                NAME,
                format!(
                    "the launcher's {writes} cgroup writes succeeded{}{what} in a scratch unit (now removed)",
                    if what.is_empty() { "" } else { " and " }
                ),
            )
        }
        Ok((outcome, said)) => {
            // The launcher's own line names the file, the errno and the fix.
            let said = said
                .lines()
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" / ");
            let detail = match (said.is_empty(), outcome.status) {
                (false, _) => said,
                (true, 200..=243) => format!(
                    "systemd could not start it ({}; see \"Process Exit Codes\" in systemd.exec(5))",
                    outcome.termination()
                ),
                (true, _) => outcome.termination(),
            };
            Check {
                name: NAME,
                status: Status::Fail,
                detail: format!("in a scratch unit: {detail}"),
                fix: None,
            }
        }
        Err(err) => Check::fail(
            NAME,
            format!("could not start a scratch unit: {err}"),
            bus_fix(plan.target.manager),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manager_older_than_ociunit_supports_fails() {
        let old = version_check(Manager::User, 237);
        assert_eq!(old.status, Status::Fail);
        assert!(old.detail.contains("older than 239"), "{}", old.detail);
        assert_eq!(version_check(Manager::User, 239).status, Status::Ok);
        assert_eq!(version_check(Manager::System, 257).status, Status::Ok);
        let detail = version_check(Manager::User, 252).detail;
        assert!(detail.contains("MemoryZSwapMax= (253)"), "{detail}");
        assert!(!detail.contains("CPUWeight"), "{detail}");
        let detail = version_check(Manager::User, 250).detail;
        assert!(detail.contains("CPUWeight=idle (252)"), "{detail}");
    }
}
