//! `process` → the payload's command line and environment (carried by the launcher) and the
//! exec settings of the service: `WorkingDirectory=`, `Limit*=`, `OOMScoreAdjust=`,
//! `NoNewPrivileges=`, `UMask=`, `User=`/`Group=`/`SupplementaryGroups=`.

use oci_spec::runtime::{PosixRlimitType, Process};
use serde_json::json;

use super::Translation;
use super::idmap::{HostId, Id};
use crate::error::shown;
use crate::plan::Destination;
use crate::plan::property::{
    DbusValue, GROUP, NO_NEW_PRIVILEGES, OOM_SCORE_ADJUST, Property, SUPPLEMENTARY_GROUPS, UMASK,
    USER, WORKING_DIRECTORY,
};
use crate::plan::rlimit::Resource;
use crate::plan::value::Limit;
use crate::target::Manager;

/// Returns the payload's argv and environment.
pub fn translate(process: &Process, t: &mut Translation) -> (Vec<String>, Vec<String>) {
    let command = command(process, t);
    let env = environment(process, t);
    working_directory(process, t);
    rlimits(process, t);
    if let Some(adj) = process.oom_score_adj() {
        let user = t.target.manager == Manager::User;
        let mapping = t.field("process.oomScoreAdj", adj);
        if !(-1000..=1000).contains(&adj) {
            mapping.to(Destination::invalid(format!(
                "{adj} is outside -1000..1000"
            )));
        } else if user && adj < 0 {
            mapping.to(Destination::dropped(
                "an unprivileged user manager can only raise oom_score_adj, and systemd ignores \
                 the failure to lower it",
            ));
        } else {
            mapping.to(Destination::property(
                &OOM_SCORE_ADJUST,
                adj.to_string(),
                DbusValue::I32(adj),
            ));
        }
    }
    if let Some(no_new_privileges) = process.no_new_privileges() {
        let mapping = t.field("process.noNewPrivileges", no_new_privileges);
        if no_new_privileges {
            mapping.to(Destination::property(
                &NO_NEW_PRIVILEGES,
                "yes",
                DbusValue::Bool(true),
            ));
        } else {
            mapping.to(Destination::ignored("false is the default"));
        }
    }
    user(process, t);
    not_translated(process, t);
    (command, env)
}

fn command(process: &Process, t: &mut Translation) -> Vec<String> {
    let args = process.args().clone().unwrap_or_default();
    let mapping = t.field("process.args", &args);
    if args.is_empty() {
        mapping.to(Destination::invalid(
            "a unit needs a command: process.args is empty or missing",
        ));
        return args;
    }
    mapping.to(Destination::Payload {
        what: "ExecStart= (after the launcher's --)".into(),
    });
    if args[0].is_empty() {
        t.field("process.args[0]", "").to(Destination::invalid(
            "empty: there is no program to run (the launcher would fail with 127)",
        ));
    }
    for (index, arg) in args.iter().enumerate().filter(|(_, a)| a.contains('\0')) {
        t.field(format!("process.args[{index}]"), arg)
            .to(Destination::invalid("contains a NUL byte"));
    }
    args
}

fn environment(process: &Process, t: &mut Translation) -> Vec<String> {
    let Some(env) = process.env() else {
        return Vec::new();
    };
    let mapping = t.field("process.env", env);
    let bad = env
        .iter()
        .position(|v| !v.contains('=') || v.starts_with('=') || v.contains('\0'));
    match bad {
        Some(index) => mapping.to(Destination::invalid(format!(
            "process.env[{index}] {} is not NAME=VALUE",
            shown(&env[index])
        ))),
        None => mapping.via("OCI: the whole environment; the launcher starts the payload with exactly these variables").to(
            Destination::Payload { what: "launcher --clear-env --env NAME=VALUE".into() },
        ),
    };
    env.clone()
}

/// The kernel refuses longer paths and components with ENAMETOOLONG (PATH_MAX counts the NUL).
const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;

/// Why systemd would not read a `WorkingDirectory=` line back as exactly this path, if so.
fn unit_file_changes(cwd: &str) -> Option<&'static str> {
    if cwd.chars().any(char::is_control) {
        Some("a control character ends or breaks the line")
    } else if cwd.ends_with(' ') {
        Some("systemd strips the white space at the end of a setting")
    } else if cwd.ends_with('\\') {
        Some("systemd reads a trailing backslash as a line continuation")
    } else if cwd != "/" && cwd[1..].split('/').any(|c| matches!(c, "" | "." | "..")) {
        Some("systemd simplifies '.', '//' and a trailing '/', and refuses '..'")
    } else {
        None
    }
}

/// One rule: any absolute path the kernel can change to is accepted, byte for byte.
fn working_directory(process: &Process, t: &mut Translation) {
    let cwd = process.cwd().to_string_lossy().into_owned();
    let system = t.target.manager == Manager::System;
    let too_long = cwd.len() >= PATH_MAX || cwd.split('/').any(|c| c.len() > NAME_MAX);
    let mapping = t.field("process.cwd", &cwd);
    if !cwd.starts_with('/') {
        mapping.to(Destination::invalid("must be an absolute path"));
    } else if cwd.contains('\0') {
        mapping.to(Destination::invalid("contains a NUL byte"));
    } else if too_long {
        mapping.to(Destination::invalid(format!(
            "the kernel refuses paths of {PATH_MAX} bytes or more and components over \
             {NAME_MAX} (ENAMETOOLONG)"
        )));
    } else if cwd == "/" && system {
        mapping.to(Destination::ignored("/ is the default for system units"));
    } else if let Some(why) = unit_file_changes(&cwd) {
        mapping
            .via(format!(
                "WorkingDirectory= cannot carry it byte for byte ({why}), so the launcher changes \
                 to it, exactly as written"
            ))
            .to(Destination::Payload {
                what: "launcher --cwd".into(),
            });
        t.cwd = Some(cwd);
    } else {
        mapping.to(Destination::property(
            &WORKING_DIRECTORY,
            cwd.clone(),
            DbusValue::Str(cwd),
        ));
    }
}

fn rlimits(process: &Process, t: &mut Translation) {
    for (index, rlimit) in process.rlimits().iter().flatten().enumerate() {
        let name = rlimit_name(rlimit.typ());
        let mapping = t.field(format!("process.rlimits[{index}]"), rlimit);
        let Some(resource) = Resource::from_name(&name) else {
            mapping.to(Destination::dropped(format!(
                "RLIMIT_{name} has no systemd setting"
            )));
            continue;
        };
        let (soft, hard) = (rlimit.soft(), rlimit.hard());
        if soft > hard {
            mapping.to(Destination::invalid(
                "the soft limit is above the hard limit",
            ));
            continue;
        }
        mapping.to(Destination::Property {
            property: Property::with_dbus(
                resource.property(),
                format!(
                    "{}:{}",
                    Limit::from_dbus(soft).unit(),
                    Limit::from_dbus(hard).unit()
                ),
                vec![DbusValue::U64(hard), DbusValue::U64(soft)],
            ),
            leaf: None,
        });
    }
}

fn rlimit_name(typ: PosixRlimitType) -> String {
    let name = json!(typ);
    name.as_str()
        .unwrap_or_default()
        .trim_start_matches("RLIMIT_")
        .to_owned()
}

/// systemd refuses 65535 and 4294967295 as user and group IDs: both mean "-1" to some
/// system call (16-bit and 32-bit).
fn id_is_valid(id: u32) -> bool {
    id != u32::MAX && id != u32::from(u16::MAX)
}

const RESERVED_ID: &str =
    "65535 and 4294967295 are not valid IDs (systemd and the kernel read them as -1)";

/// A system manager runs as root, so a namespace without mappings would run the payload as root.
fn unmapped_system(kind: Id) -> String {
    format!(
        "the bundle has a user namespace without linux.{} (crun spec --rootless writes that): \
         the runtime maps container ID 0 to whoever starts it, which for a system unit is root; \
         add linux.uidMappings and linux.gidMappings, or compile with --user",
        kind.field()
    )
}

fn user(process: &Process, t: &mut Translation) {
    let user = process.user();
    let system = t.target.manager == Manager::System;
    let ids = [
        ("process.user.uid", user.uid(), &USER, Id::User),
        ("process.user.gid", user.gid(), &GROUP, Id::Group),
    ];
    for (path, id, spec, kind) in ids {
        let manager_uid = t.manager_uid;
        let in_namespace = t.userns.exists();
        let host = t.userns.host(kind, id);
        let conversion = t.userns.conversion(kind, id);
        let mapping = t.field(path, id);
        if let Some(conversion) = conversion {
            mapping.via(conversion);
        }
        let host = match host {
            Err(why) => {
                mapping.to(Destination::invalid(why));
                continue;
            }
            Ok(HostId::Starter) if system => {
                mapping.to(Destination::invalid(unmapped_system(kind)));
                continue;
            }
            Ok(HostId::Starter) => manager_uid,
            Ok(HostId::Mapped(host)) => host,
        };
        if !id_is_valid(host) {
            mapping.to(Destination::invalid(RESERVED_ID));
        } else if system && host != 0 {
            mapping.to(Destination::property(
                spec,
                host.to_string(),
                DbusValue::Str(host.to_string()),
            ));
        } else if system {
            mapping.to(Destination::ignored(
                "root (0) is the default for system units",
            ));
        } else if host == manager_uid || (host == 0 && !in_namespace) {
            mapping.to(Destination::ignored(
                "a user manager runs everything as its own user; a rootless bundle's 0 means that user",
            ));
        } else {
            mapping.to(Destination::dropped(format!(
                "a user manager runs everything as its own user and cannot switch to {host}"
            )));
        }
    }
    if let Some(groups) = user.additional_gids().as_ref().filter(|g| !g.is_empty()) {
        let hosts: Result<Vec<u32>, String> = groups
            .iter()
            .enumerate()
            .map(|(index, gid)| match t.userns.host(Id::Group, *gid) {
                Ok(HostId::Mapped(host)) => Ok(host),
                Ok(HostId::Starter) => Ok(0),
                Err(why) => Err(format!("process.user.additionalGids[{index}]: {why}")),
            })
            .collect();
        let mapping = t.field("process.user.additionalGids", groups);
        match hosts {
            Err(why) => {
                mapping.to(Destination::invalid(why));
            }
            Ok(hosts) if !hosts.iter().copied().all(id_is_valid) => {
                mapping.to(Destination::invalid(RESERVED_ID));
            }
            Ok(hosts) if system => {
                if hosts != *groups {
                    mapping.via("user namespace: the host IDs of the groups (linux.gidMappings)");
                }
                let names: Vec<String> = hosts.iter().map(u32::to_string).collect();
                mapping.to(Destination::property(
                    &SUPPLEMENTARY_GROUPS,
                    names.join(" "),
                    DbusValue::StrList(names),
                ));
            }
            Ok(_) => {
                mapping.to(Destination::dropped(
                    "a user manager cannot add supplementary groups",
                ));
            }
        }
    }
    if let Some(umask) = user.umask() {
        let mapping = t.field("process.user.umask", umask);
        if umask <= 0o777 {
            mapping.to(Destination::property(
                &UMASK,
                format!("{umask:04o}"),
                DbusValue::U32(umask),
            ));
        } else {
            mapping.to(Destination::invalid(format!(
                "{umask} is not a file mode mask (0..0777)"
            )));
        }
    }
    if let Some(name) = user.username() {
        t.field("process.user.username", name)
            .to(Destination::dropped("a Windows setting"));
    }
}

/// Process fields a unit does not carry: say so rather than pretend.
fn not_translated(process: &Process, t: &mut Translation) {
    if let Some(terminal) = process.terminal() {
        t.field("process.terminal", terminal)
            .to(Destination::ignored(
                "a service's output goes to the journal; `ociunit run --scope` keeps your terminal",
            ));
    }
    let dropped = [
        (
            "consoleSize",
            process
                .console_size()
                .is_some()
                .then(|| json!(process.console_size())),
            "a service has no terminal",
        ),
        (
            "commandLine",
            process.command_line().as_ref().map(|v| json!(v)),
            "a Windows setting",
        ),
        (
            "ioPriority",
            process.io_priority().as_ref().map(|v| json!(v)),
            "not translated: the payload keeps the default I/O priority",
        ),
        (
            "scheduler",
            process.scheduler().as_ref().map(|v| json!(v)),
            "not translated: the payload keeps the default scheduler",
        ),
        (
            "execCPUAffinity",
            process.exec_cpu_affinity().as_ref().map(|v| json!(v)),
            "not translated: the payload keeps the unit's CPU affinity",
        ),
    ];
    for (name, value, why) in dropped {
        if let Some(value) = value {
            t.field(format!("process.{name}"), value)
                .to(Destination::dropped(why));
        }
    }
}
