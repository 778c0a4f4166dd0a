//! The decision: which field changes, where, and whether a running unit takes it live; and in
//! which order the live changes are made. Pure: what runs comes in as [`Running`] and two
//! readers (a property from the manager, a file of the leaf cgroup).

use std::collections::{BTreeMap, BTreeSet};

use sha2::Digest;

use crate::cgroupfs::file::CgroupWrite;
use crate::plan::property::{DbusValue, PropertySpec};
use crate::plan::value::{CpuMax, CpuSet, Limit};
use crate::plan::{Plan, Spawner};

use super::super::status::{limits, shown};
use super::observe::{Running, Start};
use super::report::{Change, Field, Place};

/// How a live change is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// `SetUnitProperties` (runtime: a unit file, if any, already carries the value).
    Property(&'static PropertySpec, DbusValue),
    Leaf(CgroupWrite),
}

/// A field and, for a live change, how to make it and when.
#[derive(Clone, Debug)]
pub(super) struct Planned {
    pub field: Field,
    pub action: Option<Action>,
    /// Whether the new value is tighter than the old one (`None`: not comparable).
    pub tighter: Option<bool>,
}

impl Planned {
    fn new(field: Field) -> Planned {
        Planned {
            field,
            action: None,
            tighter: None,
        }
    }
}

/// Compares the new plan with a running unit: `live` reads a property from the manager,
/// `leaf` a file of the payload's leaf cgroup, `new` is what the plan starts with.
pub(super) fn classify(
    plan: &Plan,
    running: &Running,
    new: &Start,
    old_config: Option<&str>,
    live: impl Fn(&PropertySpec) -> Option<DbusValue>,
    leaf: impl Fn(&str) -> Option<String>,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    for spec in limits() {
        let new = plan
            .properties()
            .filter(|p| p.key == spec.key)
            .last()
            .map(|p| p.dbus[0].value.clone());
        if new.is_none() && !running.keys.contains(spec.key) {
            continue;
        }
        let old = live(spec);
        let old_shown = old.as_ref().map(|value| shown(spec, value));
        let name = spec.key.to_owned();
        // systemd's default comes back at the next start: a reload of the unit file changes
        // the unit's property but not its cgroup, and nothing rewrites a transient unit.
        let Some(new) = new else {
            let field = Field::new(name, Place::Systemd, old_shown, None, Change::Restart);
            planned.push(Planned::new(field));
            continue;
        };
        let same = old.as_ref().is_some_and(|old| same_live(old, &new));
        let tighter = match (&old, &new) {
            (Some(DbusValue::U64(old)), DbusValue::U64(new)) if old != new => Some(new < old),
            _ => None,
        };
        let new_shown = Some(shown(spec, &new));
        planned.push(Planned {
            field: Field::new(
                name,
                Place::Systemd,
                old_shown,
                new_shown,
                live_or_not(same),
            ),
            action: (!same).then_some(Action::Property(spec, new)),
            tighter,
        });
    }
    let (launch, _) = plan.launch_spec(Spawner::Systemd);
    for write in &launch.writes {
        let file = write.file.as_str();
        let current = leaf(file);
        let value = write.value.trim();
        let same = current
            .as_deref()
            .is_some_and(|current| holds(file, value, current));
        let name = format!("{}/{file}", plan.leaf);
        let new = Some(value.to_owned());
        planned.push(Planned {
            field: Field::new(name, Place::Leaf, current.clone(), new, live_or_not(same)),
            action: (!same).then(|| Action::Leaf(write.clone())),
            tighter: current.and_then(|old| tighter(&old, value)),
        });
    }
    for file in &running.start.writes {
        if !launch.writes.iter().any(|w| w.file.as_str() == file) {
            let name = format!("{}/{file}", plan.leaf);
            let field = Field::new(name, Place::Leaf, leaf(file), None, Change::Restart);
            planned.push(Planned::new(field));
        }
    }
    let (old, new) = (compared(&running.start, true), compared(new, true));
    planned.extend(differences(&old, &new, Change::Restart));
    planned.extend(config_field(old_config, plan, Change::Restart));
    planned
}

fn live_or_not(same: bool) -> Change {
    if same {
        Change::Unchanged
    } else {
        Change::Live
    }
}

/// For a unit that is not running, every difference is for its next start, the limits too.
pub(super) fn not_running(
    installed: &Start,
    new: &Start,
    old_config: Option<&str>,
    plan: &Plan,
) -> Vec<Planned> {
    let (old, new) = (compared(installed, false), compared(new, false));
    let mut planned = differences(&old, &new, Change::NextStart);
    planned.extend(config_field(old_config, plan, Change::NextStart));
    planned
}

/// The settings to compare; `live_apart` leaves out the limits and the launcher's cgroup
/// writes, which a running unit takes live, and keeps only what a start applies.
fn compared(start: &Start, live_apart: bool) -> BTreeMap<&str, &Vec<String>> {
    let live: BTreeSet<&str> = if live_apart {
        limits().map(|spec| spec.key).collect()
    } else {
        BTreeSet::new()
    };
    let cgroup_options = ["ExecStart --write", "ExecStart --controllers"];
    start
        .settings
        .iter()
        .map(|(name, values)| (name.as_str(), values))
        .filter(|(name, _)| !live_apart || !(live.contains(name) || cgroup_options.contains(name)))
        .collect()
}

/// Tightenings first, then the changes that are neither, then the loosenings: at no moment is a
/// limit looser than both the old and the new value would have it. Lowering, `memory.high`
/// goes before `memory.max`, so the kernel reclaims and throttles before it kills; raising,
/// after, so that at no step is `high` above `max`.
pub(super) fn order(planned: &mut [Planned]) {
    let rank = |p: &Planned| {
        let name = p.field.name.rsplit('/').next().unwrap_or_default();
        let soft = matches!(name, "MemoryHigh" | "memory.high");
        let hard = matches!(name, "MemoryMax" | "memory.max");
        let (group, within) = match p.tighter {
            Some(true) => (
                0,
                if soft {
                    0
                } else if hard {
                    2
                } else {
                    1
                },
            ),
            None => (1, 1),
            Some(false) => (
                2,
                if hard {
                    0
                } else if soft {
                    2
                } else {
                    1
                },
            ),
        };
        (p.field.place, group, within)
    };
    planned.sort_by_key(rank);
}

/// Whether `new` (a leaf file's syntax) is tighter than `old`; `None` if they are not limits
/// of one kind.
fn tighter(old: &str, new: &str) -> Option<bool> {
    if let (Some(old), Some(new)) = (Limit::parse_cgroup(old), Limit::parse_cgroup(new)) {
        return (old != new).then(|| new.dbus() < old.dbus());
    }
    let (old, new) = (CpuMax::parse_cgroup(old)?, CpuMax::parse_cgroup(new)?);
    // quota/period compared without dividing.
    let share = |max: CpuMax| (u128::from(max.quota.dbus()), u128::from(max.period));
    let ((old_quota, old_period), (new_quota, new_period)) = (share(old), share(new));
    let (old, new) = (old_quota * new_period, new_quota * old_period);
    (old != new).then_some(new < old)
}

/// Two live values are the same limit (a CPU mask may have trailing zero bytes).
fn same_live(a: &DbusValue, b: &DbusValue) -> bool {
    match (a, b) {
        (DbusValue::Bytes(a), DbusValue::Bytes(b)) => {
            CpuSet::decode(a).list() == CpuSet::decode(b).list()
        }
        _ => a == b,
    }
}

/// Whether a leaf file reading `current` holds `written`: the same text, or the number the
/// kernel rounded it down to (`memory.*` to pages, `hugetlb.SIZE.*` to huge pages).
fn holds(file: &str, written: &str, current: &str) -> bool {
    if written == current {
        return true;
    }
    let granule = match file.split('.').collect::<Vec<_>>()[..] {
        ["memory", ..] => rustix::param::page_size() as u64,
        ["hugetlb", size, ..] => huge_page_bytes(size).unwrap_or(1),
        _ => 1,
    };
    match (written.parse::<u64>(), current.parse::<u64>()) {
        (Ok(written), Ok(current)) => current == written - written % granule,
        _ => false,
    }
}

/// `2MB` → 2 MiB, as hugetlb names its files.
fn huge_page_bytes(size: &str) -> Option<u64> {
    let split = size.find(|c: char| !c.is_ascii_digit())?;
    let shift = match &size[split..] {
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        _ => return None,
    };
    size[..split].parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// The start-time settings that differ between what runs (or is installed) and the new plan.
fn differences(
    old: &BTreeMap<&str, &Vec<String>>,
    new: &BTreeMap<&str, &Vec<String>>,
    change: Change,
) -> Vec<Planned> {
    let keys: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    let joined = |values: &&Vec<String>| values.join("\n");
    keys.into_iter()
        .filter(|key| old.get(key) != new.get(key))
        .map(|key| {
            let (old, new) = (old.get(key).map(joined), new.get(key).map(joined));
            Planned::new(Field::new(key.to_owned(), Place::Start, old, new, change))
        })
        .collect()
}

/// In container mode, whether the runtime's config changed beyond `linux.resources` (the
/// limits, which reach the container's cgroup through the leaf instead). Shown as the two
/// files' hashes (the new one is the unit's `RuntimeConfigSha256=`) and the parts that differ,
/// which are what to look at.
fn config_field(old: Option<&str>, plan: &Plan, change: Change) -> Option<Planned> {
    let container = plan.container.as_ref()?;
    let without_resources = |text: &str| {
        let mut config: serde_json::Value = serde_json::from_str(text).ok()?;
        if let Some(linux) = config.get_mut("linux").and_then(|l| l.as_object_mut()) {
            linux.remove("resources");
        }
        Some(config)
    };
    let new_text = container.config_text();
    let old_text = old.unwrap_or_default();
    let (old, new) = (without_resources(old_text), without_resources(&new_text));
    if old == new {
        return None;
    }
    let hash = |text: &str| {
        format!(
            "sha256:{}",
            &crate::bundle::hex(&sha2::Sha256::digest(text))[..12]
        )
    };
    let changed = match (&old, &new) {
        (Some(old), Some(new)) => {
            format!("{} changed in ", differing_parts(old, new, "").join(", "))
        }
        _ => String::new(),
    };
    let path = container.config_dir.join("config.json");
    let field = Field::new(
        "runtime config".to_owned(),
        Place::Start,
        (!old_text.is_empty()).then(|| hash(old_text)),
        Some(format!("{} ({changed}{})", hash(&new_text), path.display())),
        change,
    );
    Some(Planned::new(field))
}

/// The members in which two configs differ, dotted (`process.args`), down to a member of a
/// member: deep enough to say what to look at, without listing every mount option.
fn differing_parts(old: &serde_json::Value, new: &serde_json::Value, prefix: &str) -> Vec<String> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return vec![prefix.to_owned()];
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|key| old.get(*key) != new.get(*key))
        .flat_map(|key| match (prefix, old.get(key), new.get(key)) {
            ("", Some(old), Some(new)) => differing_parts(old, new, key),
            ("", ..) => vec![key.clone()],
            (prefix, ..) => vec![format!("{prefix}.{key}")],
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;
    use crate::compile::{self, Request};
    use crate::render::unit;

    pub(in super::super) const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

    /// A plan of a bundle with these `linux.resources` and `process.args`, and its unit file.
    pub(in super::super) fn plan_of(resources: &str, args: &str) -> (Plan, String) {
        plan_with(resources, args, false)
    }

    /// [`plan_of`], in container mode (crun 1.21) with `container`.
    fn plan_with(resources: &str, args: &str, container: bool) -> (Plan, String) {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("web");
        std::fs::create_dir(&bundle).unwrap();
        let namespaces = if container {
            r#","namespaces":[{"type":"user"},{"type":"mount"}]"#
        } else {
            ""
        };
        std::fs::write(
            bundle.join("config.json"),
            format!(
                r#"{{"ociVersion":"1.0.2","process":{{"args":{args},"cwd":"/","env":["A=1"],
                "user":{{"uid":1000,"gid":1000}}}},"root":{{"path":"/"}},
                "linux":{{"resources":{resources}{namespaces}}}}}"#
            ),
        )
        .unwrap();
        let request = Request {
            runtime: if container {
                crate::runtime::Choice::Kind(crate::runtime::Kind::Crun)
            } else {
                crate::runtime::Choice::None
            },
            runtime_version: container.then(|| "1.21".to_owned()),
            ..Request::new(crate::target::Target {
                manager: crate::target::Manager::User,
                systemd: 257,
            })
        };
        let context = compile::Context {
            manager_uid: 1000,
            ..compile::Context::installed(&request)
        };
        let bundle = crate::bundle::Bundle::load(&bundle).unwrap();
        let (plan, _) = compile::with_warnings(&bundle, &request, &context).unwrap();
        let text = unit::render(&plan, Path::new(LAUNCHER)).unwrap();
        (plan, text)
    }

    fn classify_installed(
        plan: &Plan,
        installed: &str,
        started: &str,
        text: &str,
        live: impl Fn(&PropertySpec) -> Option<DbusValue>,
        leaf: impl Fn(&str) -> Option<String>,
    ) -> Vec<Planned> {
        let read = |text: &str| Running::unit_file(text).unwrap();
        let running = read(installed).since_rewritten(read(started).start);
        classify(plan, &running, &read(text).start, None, live, leaf)
    }

    /// The start-time settings that differ.
    fn at_start(planned: &[Planned]) -> Vec<&str> {
        planned
            .iter()
            .filter(|p| p.field.place == Place::Start)
            .map(|p| p.field.name.as_str())
            .collect()
    }

    fn field<'a>(planned: &'a [Planned], name: &str) -> &'a Field {
        &planned
            .iter()
            .find(|p| p.field.name == name)
            .unwrap_or_else(|| panic!("no {name} in {planned:#?}"))
            .field
    }

    #[test]
    fn limits_change_live_and_the_command_line_needs_a_restart() {
        let resources = r#"{"memory":{"limit":268435456},"pids":{"limit":64},
            "cpu":{"quota":12345,"period":100000}}"#;
        let (plan, text) = plan_of(resources, r#"["/bin/sleep","700"]"#);
        let old = r#"{"memory":{"limit":536870912},"pids":{"limit":64},
            "cpu":{"quota":50000,"period":100000}}"#;
        let (_, installed) = plan_of(old, r#"["/bin/sleep","600"]"#);
        let live = |spec: &PropertySpec| match spec.key {
            "MemoryMax" => Some(DbusValue::U64(536_870_912)),
            "TasksMax" => Some(DbusValue::U64(64)),
            "CPUQuota" => Some(DbusValue::U64(500_000)),
            _ => None,
        };
        let leaf = |file: &str| match file {
            "memory.max" => Some("536870912".to_owned()),
            "pids.max" => Some("64".to_owned()),
            "cpu.max" => Some("50000 100000".to_owned()),
            _ => None,
        };
        let mut planned = classify_installed(&plan, &installed, &installed, &text, live, leaf);
        order(&mut planned);
        let memory = field(&planned, "MemoryMax");
        assert_eq!(
            (memory.change, memory.new.as_deref()),
            (Change::Live, Some("268435456 (256.0M)"))
        );
        assert_eq!(field(&planned, "TasksMax").change, Change::Unchanged);
        assert_eq!(field(&planned, "CPUQuota").new.as_deref(), Some("12.35%"));
        let cpu_max = field(&planned, "payload/cpu.max");
        assert_eq!(
            (
                cpu_max.change,
                cpu_max.old.as_deref(),
                cpu_max.new.as_deref()
            ),
            (Change::Live, Some("50000 100000"), Some("12345 100000"))
        );
        assert_eq!(
            field(&planned, "payload/pids.max").change,
            Change::Unchanged
        );
        let args = field(&planned, "ExecStart --");
        assert_eq!(
            (args.change, args.old.as_deref(), args.new.as_deref()),
            (
                Change::Restart,
                Some("/bin/sleep 600"),
                Some("/bin/sleep 700")
            )
        );
        assert_eq!(
            at_start(&planned),
            ["ExecStart --"],
            "only the command line"
        );
    }

    #[test]
    fn a_write_the_bundle_dropped_waits_for_a_restart() {
        let (plan, text) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","600"]"#);
        let old = r#"{"memory":{"limit":536870912},"pids":{"limit":64}}"#;
        let (_, installed) = plan_of(old, r#"["/bin/sleep","600"]"#);
        let planned = classify_installed(
            &plan,
            &installed,
            &installed,
            &text,
            |spec| (spec.key == "MemoryMax").then_some(DbusValue::U64(536_870_912)),
            |file| (file == "memory.max").then(|| "536870912".to_owned()),
        );
        let systemd = field(&planned, "MemoryMax");
        assert_eq!(
            (systemd.change, systemd.new.as_deref()),
            (Change::Restart, None)
        );
        let leaf = field(&planned, "payload/memory.max");
        assert_eq!((leaf.change, leaf.new.as_deref()), (Change::Restart, None));
    }

    /// A transient service: what runs is its ExecStart and properties; a limit the bundle dropped
    /// stays until it is started anew, and a changed command line needs a restart.
    #[test]
    fn a_transient_service_keeps_a_dropped_limit_and_compares_its_command_line() {
        let launcher = Path::new(LAUNCHER);
        let (old_plan, _) = plan_of(
            r#"{"memory":{"limit":536870912},"pids":{"limit":64}}"#,
            r#"["/bin/sleep","600"]"#,
        );
        let (plan, _) = plan_of(r#"{"pids":{"limit":32}}"#, r#"["/bin/sleep","601"]"#);
        let running = Running {
            keys: ["MemoryMax", "TasksMax"].map(str::to_owned).into(),
            start: Start::of_transient(&old_plan, launcher),
        };
        let live = |spec: &PropertySpec| match spec.key {
            "MemoryMax" => Some(DbusValue::U64(536_870_912)),
            "TasksMax" => Some(DbusValue::U64(64)),
            _ => None,
        };
        let new = Start::of_transient(&plan, launcher);
        let planned = classify(&plan, &running, &new, None, live, |file| {
            (file == "pids.max").then(|| "64".to_owned())
        });
        let memory = field(&planned, "MemoryMax");
        assert_eq!(
            (memory.change, memory.new.as_deref()),
            (Change::Restart, None)
        );
        assert_eq!(field(&planned, "TasksMax").change, Change::Live);
        assert_eq!(field(&planned, "payload/pids.max").change, Change::Live);
        assert_eq!(
            field(&planned, "payload/memory.max").change,
            Change::Restart
        );
        let args = field(&planned, "ExecStart --");
        assert_eq!(
            (args.change, args.new.as_deref()),
            (Change::Restart, Some("/bin/sleep 601"))
        );
        assert_eq!(
            at_start(&planned),
            ["ExecStart --"],
            "only the command line"
        );
    }

    #[test]
    fn kernel_rounding_is_not_a_change() {
        let (plan, text) = plan_of(r#"{"memory":{"limit":1000000000}}"#, r#"["/bin/true"]"#);
        let planned = classify_installed(
            &plan,
            &text,
            &text,
            &text,
            |spec| (spec.key == "MemoryMax").then_some(DbusValue::U64(1_000_000_000)),
            |file| (file == "memory.max").then(|| "999997440".to_owned()),
        );
        assert!(
            planned.iter().all(|p| p.field.change == Change::Unchanged),
            "{planned:#?}"
        );
    }

    /// After an apply that left a restart pending, the installed unit is the new one; what
    /// runs is still what the kept record says.
    #[test]
    fn a_restart_stays_needed_until_the_unit_restarts() {
        let (_, started) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","600"]"#);
        let (plan, text) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","601"]"#);
        let planned = classify_installed(&plan, &text, &started, &text, |_| None, |_| None);
        assert_eq!(field(&planned, "ExecStart --").change, Change::Restart);
    }

    /// A unit that is not running takes every difference at its next start, its limits and
    /// the launcher's writes among them.
    #[test]
    fn a_stopped_unit_takes_everything_at_its_next_start() {
        let (_, installed) = plan_of(r#"{"pids":{"limit":64}}"#, r#"["/bin/sleep","600"]"#);
        let (plan, text) = plan_of(r#"{"pids":{"limit":32}}"#, r#"["/bin/sleep","600"]"#);
        let read = |text: &str| Running::unit_file(text).unwrap().start;
        let planned = not_running(&read(&installed), &read(&text), None, &plan);
        let names: Vec<&str> = planned.iter().map(|p| p.field.name.as_str()).collect();
        assert_eq!(names, ["ExecStart --write", "TasksMax"]);
        assert!(planned.iter().all(|p| p.field.change == Change::NextStart));
    }

    /// A changed runtime config is shown as what a person can look at: the two files' hashes
    /// and the members that differ, not "(none)" for a config that is there.
    #[test]
    fn a_changed_runtime_config_says_what_changed() {
        let (old_plan, _) = plan_with("{}", r#"["/bin/sleep","600"]"#, true);
        let (plan, _) = plan_with(r#"{"pids":{"limit":5}}"#, r#"["/bin/sleep","601"]"#, true);
        let old = old_plan.container.as_ref().unwrap().config_text();
        assert!(config_field(Some(&old), &old_plan, Change::Restart).is_none());
        let (only_limits, _) =
            plan_with(r#"{"pids":{"limit":5}}"#, r#"["/bin/sleep","600"]"#, true);
        assert!(config_field(Some(&old), &only_limits, Change::Restart).is_none());

        let hash = |text: &str| crate::bundle::hex(&sha2::Sha256::digest(text))[..12].to_owned();
        let new = plan.container.as_ref().unwrap();
        let (old_hash, new_hash) = (hash(&old), hash(&new.config_text()));
        let path = new.config_dir.join("config.json").display().to_string();
        let changed = config_field(Some(&old), &plan, Change::Restart)
            .unwrap()
            .field;
        assert_eq!(changed.old, Some(format!("sha256:{old_hash}")));
        let shown = format!("sha256:{new_hash} (process.args changed in {path})");
        assert_eq!(changed.new, Some(shown));
        let missing = config_field(None, &plan, Change::NextStart).unwrap().field;
        assert_eq!(missing.old, None);
        assert_eq!(missing.new, Some(format!("sha256:{new_hash} ({path})")));
    }

    #[test]
    fn rounded_values_are_held() {
        let page = rustix::param::page_size() as u64;
        assert!(holds(
            "memory.max",
            "1000000000",
            &(1_000_000_000 - 1_000_000_000 % page).to_string()
        ));
        assert!(!holds("memory.max", "1000000000", "999000000"));
        assert!(holds("hugetlb.2MB.max", "3145728", "2097152"));
        assert!(!holds("pids.max", "100", "99"));
        assert!(holds("cpu.max", "12345 100000", "12345 100000"));
    }

    fn step(name: &str, place: Place, tighter: Option<bool>) -> Planned {
        Planned {
            tighter,
            ..Planned::new(Field::new(name.to_owned(), place, None, None, Change::Live))
        }
    }

    fn ordered(steps: Vec<Planned>) -> Vec<String> {
        let mut steps = steps;
        order(&mut steps);
        steps.into_iter().map(|p| p.field.name).collect()
    }

    #[test]
    fn lowering_writes_high_before_max_and_raising_max_before_high() {
        let lowering = ordered(vec![
            step("payload/memory.max", Place::Leaf, Some(true)),
            step("payload/memory.high", Place::Leaf, Some(true)),
            step("MemoryMax", Place::Systemd, Some(true)),
            step("MemoryHigh", Place::Systemd, Some(true)),
        ]);
        assert_eq!(
            lowering,
            [
                "MemoryHigh",
                "MemoryMax",
                "payload/memory.high",
                "payload/memory.max"
            ]
        );
        let raising = ordered(vec![
            step("payload/memory.high", Place::Leaf, Some(false)),
            step("payload/memory.max", Place::Leaf, Some(false)),
        ]);
        assert_eq!(raising, ["payload/memory.max", "payload/memory.high"]);
        let mixed = ordered(vec![
            step("payload/pids.max", Place::Leaf, Some(false)),
            step("payload/cpu.weight", Place::Leaf, None),
            step("payload/cpu.max", Place::Leaf, Some(true)),
        ]);
        assert_eq!(
            mixed,
            ["payload/cpu.max", "payload/cpu.weight", "payload/pids.max"],
            "tightenings first, loosenings last"
        );
    }

    #[test]
    fn which_value_is_tighter() {
        assert_eq!(tighter("max", "100"), Some(true));
        assert_eq!(tighter("100", "max"), Some(false));
        assert_eq!(tighter("100", "100"), None);
        assert_eq!(tighter("50000 100000", "12345 100000"), Some(true));
        assert_eq!(tighter("50000 100000", "max 100000"), Some(false));
        assert_eq!(
            tighter("10000 20000", "50000 100000"),
            None,
            "the same share"
        );
        assert_eq!(tighter("default 100", "default 200"), None);
    }
}
