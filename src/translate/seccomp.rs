//! `linux.seccomp` → `SystemCallFilter=`, `SystemCallErrorNumber=`, `SystemCallArchitectures=`,
//! when systemd can express the profile exactly; otherwise the profile is dropped with the reason.
//!
//! systemd's filter is a list of names with one default action: an allow list (every other call
//! fails with `SystemCallErrorNumber=`, or kills the process) or a deny list (`~`, the listed calls
//! fail or kill). So a profile translates when it filters on names only (no `args`) and has one
//! default action and one other kind of action. Two differences are made up for:
//!
//! * in allow-list mode systemd always adds its `@default` set (execve, exit, the time and sleep
//!   calls, …; the exact list grows between versions), which would allow more than the bundle
//!   does. The unit therefore takes `@default` away again and then lists the bundle's names
//!   once more (`SystemCallFilter=` read in order: add, `~@default` removes, add), which leaves
//!   exactly the bundle's list on every systemd version;
//! * a profile without `architectures` filters only the native ABI and kills calls of any other,
//!   while systemd would filter every ABI of the host the same way: the unit always sets
//!   `SystemCallArchitectures=` (`native` plus the bundle's), which refuses the others.
//!
//! The launcher runs under the filter too, before it execs the payload.

use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag};

use super::Translation;
use crate::plan::Destination;
use crate::plan::property::{
    DbusValue, Property, SYSTEM_CALL_ARCHITECTURES, SYSTEM_CALL_ERROR_NUMBER, SYSTEM_CALL_FILTER,
};

/// The errno of `SCMP_ACT_ERRNO` without `errnoRet` (runtime-spec).
const EPERM: u32 = 1;

/// What one rule (or the default) does, as far as systemd can tell actions apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// `SCMP_ACT_ALLOW`, and `SCMP_ACT_LOG`, which allows and logs.
    Allow,
    Errno(u32),
    /// Any `SCMP_ACT_KILL*`: systemd kills the whole process.
    Kill,
    /// No systemd equivalent.
    Other(&'static str),
}

fn action(action: LinuxSeccompAction, errno: Option<u32>) -> Action {
    use LinuxSeccompAction::{
        ScmpActAllow, ScmpActErrno, ScmpActKill, ScmpActKillProcess, ScmpActKillThread, ScmpActLog,
        ScmpActNotify, ScmpActTrace, ScmpActTrap,
    };
    match action {
        ScmpActAllow | ScmpActLog => Action::Allow,
        ScmpActErrno => Action::Errno(errno.unwrap_or(EPERM)),
        ScmpActKill | ScmpActKillThread | ScmpActKillProcess => Action::Kill,
        ScmpActTrap => Action::Other("SCMP_ACT_TRAP (a catchable SIGSYS)"),
        ScmpActTrace => Action::Other("SCMP_ACT_TRACE (a ptrace stop)"),
        ScmpActNotify => Action::Other("SCMP_ACT_NOTIFY (a user-space agent decides)"),
    }
}

/// systemd's name for a libseccomp architecture; `None` for those it has no name for.
fn arch(arch: Arch) -> Option<&'static str> {
    use Arch::{
        ScmpArchAarch64, ScmpArchArm, ScmpArchLoongarch64, ScmpArchM68k, ScmpArchMips,
        ScmpArchMips64, ScmpArchMips64n32, ScmpArchMipsel, ScmpArchMipsel64, ScmpArchMipsel64n32,
        ScmpArchNative, ScmpArchParisc, ScmpArchParisc64, ScmpArchPpc, ScmpArchPpc64,
        ScmpArchPpc64le, ScmpArchRiscv64, ScmpArchS390, ScmpArchS390x, ScmpArchSh, ScmpArchSheb,
        ScmpArchX32, ScmpArchX86, ScmpArchX86_64,
    };
    Some(match arch {
        ScmpArchNative => "native",
        ScmpArchX86 => "x86",
        ScmpArchX86_64 => "x86-64",
        ScmpArchX32 => "x32",
        ScmpArchArm => "arm",
        ScmpArchAarch64 => "arm64",
        ScmpArchMips => "mips",
        ScmpArchMips64 => "mips64",
        ScmpArchMips64n32 => "mips64-n32",
        ScmpArchMipsel => "mips-le",
        ScmpArchMipsel64 => "mips64-le",
        ScmpArchMipsel64n32 => "mips64-le-n32",
        ScmpArchPpc => "ppc",
        ScmpArchPpc64 => "ppc64",
        ScmpArchPpc64le => "ppc64-le",
        ScmpArchS390 => "s390",
        ScmpArchS390x => "s390x",
        ScmpArchParisc => "parisc",
        ScmpArchParisc64 => "parisc64",
        ScmpArchRiscv64 => "riscv64",
        ScmpArchLoongarch64 | ScmpArchM68k | ScmpArchSh | ScmpArchSheb => return None,
    })
}

/// Why a profile does not become a filter.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// The bundle is wrong: `path` (below `linux.seccomp`), the value there, and why.
    Invalid(String, String, String),
    /// Valid, but systemd cannot express it.
    Inexpressible(String),
}

/// The translated filter: the properties in the order systemd must read them.
#[derive(Debug, PartialEq, Eq)]
struct Filter {
    properties: Vec<Property>,
    conversion: String,
}

fn filter_property(allow: bool, names: &[String]) -> Property {
    let text = names.join(" ");
    Property::new(
        &SYSTEM_CALL_FILTER,
        if allow { text } else { format!("~{text}") },
        DbusValue::FlagStrings(allow, names.to_vec()),
    )
}

/// A system call name as libseccomp spells them; anything else could be read by systemd as a
/// group (`@…`), an errno (`name:EPERM`) or a second word.
fn is_syscall_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn filter(seccomp: &LinuxSeccomp) -> Result<Filter, Refusal> {
    let inexpressible = |why: String| Err(Refusal::Inexpressible(why));
    let default = action(seccomp.default_action(), seccomp.default_errno_ret());
    if let Action::Other(what) = default {
        return inexpressible(format!("defaultAction {what} has no systemd equivalent"));
    }
    let mut names: Vec<String> = Vec::new();
    let mut other: Option<Action> = None;
    for (index, rule) in seccomp.syscalls().iter().flatten().enumerate() {
        for (n, name) in rule.names().iter().enumerate() {
            if !is_syscall_name(name) {
                return Err(Refusal::Invalid(
                    format!("syscalls[{index}].names[{n}]"),
                    name.clone(),
                    format!("{name:?} is not a system call name"),
                ));
            }
        }
        if rule.args().as_ref().is_some_and(|a| !a.is_empty()) {
            return inexpressible(format!(
                "syscalls[{index}] filters on arguments (args), which SystemCallFilter= cannot"
            ));
        }
        let this = action(rule.action(), rule.errno_ret());
        if this == default {
            continue;
        }
        if let Action::Other(what) = this {
            return inexpressible(format!(
                "syscalls[{index}]: {what} has no systemd equivalent"
            ));
        }
        match other {
            Some(seen) if seen != this => {
                return inexpressible(format!(
                    "syscalls[{index}] has a second kind of action ({}, after {}): systemd has \
                     one action for all listed calls",
                    describe(this),
                    describe(seen)
                ));
            }
            _ => other = Some(this),
        }
        names.extend(rule.names().iter().cloned());
    }
    if let Some(action) = other.filter(|a| default != Action::Allow && *a != Action::Allow) {
        return inexpressible(format!(
            "an allow list whose other calls {} has rules that {}: systemd's allow list has one \
             action for every call it does not list",
            describe(default),
            describe(action)
        ));
    }
    names.sort();
    names.dedup();
    let errno = match (default, other) {
        (Action::Errno(e), _) | (Action::Allow, Some(Action::Errno(e))) => Some(e),
        _ => None,
    };
    if let Some(e) = errno.filter(|e| !(1..=4095).contains(e)) {
        return inexpressible(format!("errno {e}: SystemCallErrorNumber= takes 1..4095"));
    }
    let archs = architectures(seccomp);
    let mut properties = Vec::new();
    let mut conversion = match (default, other) {
        (Action::Allow, None) => {
            "allows every call: only SystemCallArchitectures= (which refuses the other ABIs, as \
             the bundle's filter does)"
                .to_owned()
        }
        (Action::Allow, Some(action)) => {
            properties.push(filter_property(false, &names));
            format!("a deny list: the listed calls {}", describe(action))
        }
        _ => {
            let first = if names.is_empty() {
                vec!["@default".to_owned()]
            } else {
                names.clone()
            };
            properties.push(filter_property(true, &first));
            properties.push(filter_property(false, &["@default".to_owned()]));
            if !names.is_empty() {
                properties.push(filter_property(true, &names));
            }
            format!(
                "an allow list: every other call {}; systemd adds its @default set to an allow \
                 list, so the unit removes it (~@default) and lists the bundle's calls again",
                describe(default)
            )
        }
    };
    if let Some(e) = errno {
        properties.push(Property::new(
            &SYSTEM_CALL_ERROR_NUMBER,
            e.to_string(),
            DbusValue::I32(i32::try_from(e).unwrap_or(i32::MAX)),
        ));
    }
    properties.push(Property::new(
        &SYSTEM_CALL_ARCHITECTURES,
        archs.join(" "),
        DbusValue::StrList(archs.clone()),
    ));
    let log = std::iter::once(seccomp.default_action())
        .chain(
            seccomp
                .syscalls()
                .iter()
                .flatten()
                .map(oci_spec::runtime::LinuxSyscall::action),
        )
        .any(|a| a == LinuxSeccompAction::ScmpActLog);
    if log {
        conversion.push_str("; SCMP_ACT_LOG allows as SCMP_ACT_ALLOW does, without the log");
    }
    if seccomp
        .architectures()
        .iter()
        .flatten()
        .any(|a| arch(*a).is_none())
    {
        conversion.push_str(
            "; architectures systemd has no name for are left out, so their calls are refused",
        );
    }
    conversion.push_str(
        "; the launcher runs under the filter before it execs the payload, and systemd sets \
         no_new_privs too when the unit lacks CAP_SYS_ADMIN (user units, User=)",
    );
    Ok(Filter {
        properties,
        conversion,
    })
}

fn describe(action: Action) -> String {
    match action {
        Action::Allow => "run".to_owned(),
        Action::Errno(e) => format!("fail with errno {e} (SystemCallErrorNumber=)"),
        Action::Kill => {
            "kill the process (systemd kills the whole process for SCMP_ACT_KILL*)".to_owned()
        }
        Action::Other(what) => what.to_owned(),
    }
}

/// `native` (a profile always filters the native ABI) and the bundle's, in its order.
fn architectures(seccomp: &LinuxSeccomp) -> Vec<String> {
    let mut archs = vec!["native".to_owned()];
    for name in seccomp
        .architectures()
        .iter()
        .flatten()
        .filter_map(|a| arch(*a))
    {
        if !archs.iter().any(|a| a == name) {
            archs.push(name.to_owned());
        }
    }
    archs
}

pub fn translate(seccomp: &LinuxSeccomp, t: &mut Translation) {
    match filter(seccomp) {
        Ok(filter) => {
            let mapping = t.field("linux.seccomp", seccomp).via(filter.conversion);
            for property in filter.properties {
                mapping.to(Destination::Property {
                    property,
                    leaf: None,
                });
            }
        }
        Err(Refusal::Invalid(path, value, why)) => {
            t.field(format!("linux.seccomp.{path}"), value)
                .to(Destination::invalid(why));
        }
        Err(Refusal::Inexpressible(why)) => {
            t.field("linux.seccomp", seccomp)
                .to(Destination::dropped(format!(
                    "not expressible as SystemCallFilter=: {why}; no filter is installed"
                )));
        }
    }
    let flags = seccomp.flags().as_deref().unwrap_or_default();
    if !flags.is_empty() {
        use LinuxSeccompFilterFlag::{SeccompFilterFlagLog, SeccompFilterFlagSpecAllow};
        let mapping = t.field("linux.seccomp.flags", flags);
        if flags
            .iter()
            .any(|f| matches!(f, SeccompFilterFlagLog | SeccompFilterFlagSpecAllow))
        {
            mapping.to(Destination::dropped(
                "systemd neither logs filter actions (SECCOMP_FILTER_FLAG_LOG) nor turns off the \
                 speculative store bypass mitigation (SECCOMP_FILTER_FLAG_SPEC_ALLOW)",
            ));
        } else {
            mapping.to(Destination::ignored(
                "TSYNC and WAIT_KILLABLE_RECV change nothing for a single-threaded launcher \
                 without a notify agent",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(value: serde_json::Value) -> Result<Vec<(String, DbusValue)>, Refusal> {
        let seccomp: LinuxSeccomp = serde_json::from_value(value).unwrap();
        filter(&seccomp).map(|f| {
            f.properties
                .into_iter()
                .map(|p| (format!("{}={}", p.key, p.value), p.dbus[0].value.clone()))
                .collect()
        })
    }

    fn lines(value: serde_json::Value) -> Vec<String> {
        profile(value)
            .unwrap()
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }

    #[test]
    fn a_deny_list_with_an_errno() {
        let got = profile(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["mkdir", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30},
                {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30},
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"}
            ]
        }))
        .unwrap();
        assert_eq!(
            got,
            [
                (
                    "SystemCallFilter=~chmod fchmodat mkdir".to_owned(),
                    DbusValue::FlagStrings(
                        false,
                        vec!["chmod".into(), "fchmodat".into(), "mkdir".into()]
                    )
                ),
                ("SystemCallErrorNumber=30".to_owned(), DbusValue::I32(30)),
                (
                    "SystemCallArchitectures=native x86-64 x86 x32".to_owned(),
                    DbusValue::StrList(vec![
                        "native".into(),
                        "x86-64".into(),
                        "x86".into(),
                        "x32".into()
                    ])
                ),
            ]
        );
    }

    #[test]
    fn an_allow_list_takes_systemds_default_set_away_again() {
        let got = lines(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["write", "read", "execve"], "action": "SCMP_ACT_ALLOW"}]
        }));
        assert_eq!(
            got,
            [
                "SystemCallFilter=execve read write",
                "SystemCallFilter=~@default",
                "SystemCallFilter=execve read write",
                "SystemCallErrorNumber=1",
                "SystemCallArchitectures=native",
            ]
        );
        let kill = lines(json!({
            "defaultAction": "SCMP_ACT_KILL_PROCESS", "defaultErrnoRet": 5,
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG"}]
        }));
        assert_eq!(kill.len(), 4, "{kill:?}");
        assert!(!kill.iter().any(|l| l.starts_with("SystemCallErrorNumber")));
    }

    #[test]
    fn allow_all_still_restricts_the_architectures() {
        assert_eq!(
            lines(json!({"defaultAction": "SCMP_ACT_ALLOW",
                         "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64"]})),
            ["SystemCallArchitectures=native arm64"]
        );
    }

    #[test]
    fn what_systemd_cannot_say_is_refused_with_the_reason() {
        let inexpressible = |value| match profile(value) {
            Err(Refusal::Inexpressible(why)) => why,
            other => panic!("{other:?}"),
        };
        let args = inexpressible(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}));
        assert!(args.contains("syscalls[0] filters on arguments"), "{args}");
        let mixed = inexpressible(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["a"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["b"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}));
        assert!(mixed.contains("syscalls[1] has a second kind"), "{mixed}");
        let trap = inexpressible(json!({"defaultAction": "SCMP_ACT_TRAP"}));
        assert!(trap.contains("SCMP_ACT_TRAP"), "{trap}");
        let errno0 =
            inexpressible(json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 0}));
        assert!(errno0.contains("1..4095"), "{errno0}");
        let deny_in_allow = inexpressible(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}));
        assert!(deny_in_allow.contains("second kind"), "{deny_in_allow}");
        assert_eq!(
            profile(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["@default"], "action": "SCMP_ACT_ERRNO"}]})),
            Err(Refusal::Invalid(
                "syscalls[0].names[0]".into(),
                "@default".into(),
                "\"@default\" is not a system call name".into()
            ))
        );
    }
}
