# apply: install and start, then lower and raise limits (blockIO.weight too) with `ociunit apply`: systemd and the payload's leaf take them while the main PID stays; an args change exits 3 ("needs a restart"); --restart restarts; in container mode (crun, runc; installed and from `run --service`) the container reads the lowered memory.max at once; a transient service from `run --service` changes live, and --restart is refused for it; systemd's own cgroup files follow, and no runtime drop-in is left
# suites: bookworm trixie
# variants: full
# timeout: 1200
need_ociunit

out=$OVM_WORK/apply.txt
dir=$OVM_WORK/ovm-apply
unit=ovm-apply.service
note_unit "$unit"

# resources MEMORY PIDS QUOTA SHARES HIGH IO_WEIGHT: the bundle's linux.resources; memory.high
# comes through a unified key. blockIO.weight needs the io controller, which the full variant
# delegates.
resources() {
  printf '{"memory": {"limit": %s}, "pids": {"limit": %s}, "cpu": {"quota": %s, "period": 100000, "shares": %s}, "unified": {"memory.high": "%s"}, "blockIO": {"weight": %s}}' "$@"
}

# applied LABEL ARGS...: ociunit apply as dev; its output in $applied, its status in $rc
applied() {
  local label=$1
  shift
  rc=0
  applied=$(as_dev ociunit apply "$dir" "$@" 2>&1) || rc=$?
  echo "  apply $*: exit $rc"
  printf '%s\n' "$applied" | sed 's/^/    | /'
}

# leaf FILE: the payload's own cgroup file; unit_file_of FILE: the unit's (systemd's) one
leaf() { cat "$(unit_cgroup "$unit")/payload/$1" 2>&1; }
unit_file_of() { cat "$(unit_cgroup "$unit")/$1" 2>&1; }
# settled WHAT: systemd's own cgroup files hold the limits too (a reload changes a unit's
# properties, and from systemd 257 on not its cgroup), and apply left no runtime drop-in that
# would override the unit file until the next boot
settled() {
  expect_eq "$1: the unit's cgroup memory.max" "$2" "$(unit_file_of memory.max)"
  expect_eq "$1: the unit's cgroup pids.max" "$3" "$(unit_file_of pids.max)"
  expect_eq "$1: no runtime control drop-in" "" "$(ls -A "/run/user/1000/systemd/user.control/$unit.d" 2>/dev/null)"
  expect_eq "$1: NeedDaemonReload" no "$(unit_prop "$unit" NeedDaemonReload)"
}

bundle "$dir" "$(limits_bundle_json "$out" "$(resources 1000000000 100 50000 1024 900000000 500)")"
expect_rc "install --now" 0 as_dev ociunit install "$dir" --now
wait_file "$out" 60 || _bad "the payload did not write $out"
pid=$(unit_prop "$unit" MainPID)
check "it runs" test "$pid" -gt 0
expect_eq "memory.max at start" 999997440 "$(leaf memory.max)"
# OCI's 10..1000 onto 1..10000: 500 is 4950, 100 is 910, 800 is 7980.
expect_eq "IOWeight at start" 4950 "$(unit_prop "$unit" IOWeight)"
expect_eq "leaf io.weight at start" "default 4950" "$(leaf io.weight)"

# Lower everything.
bundle "$dir" "$(limits_bundle_json "$out" "$(resources 500000000 50 12345 512 400000000 100)")"
applied "dry run" --dry-run --json
expect_eq "dry run: exit status" 0 "$rc"
expect_match "dry run: the format" '"format": "ociunit-apply/1"' "$applied"
expect_match "dry run: MemoryMax would change live" '"name": "MemoryMax",[^}]*"change": "live"' "$(printf '%s' "$applied" | tr -d '\n')"
expect_eq "dry run: nothing applied" 999997440 "$(leaf memory.max)"
applied "lower"
expect_eq "lower: exit status" 0 "$rc"
expect_match "lower: reported" 'changed live +MemoryMax' "$applied"
load_props "$unit"
expect_eq "lower: MemoryMax" 500000000 "${PROP[MemoryMax]}"
expect_eq "lower: MemoryHigh" 400000000 "${PROP[MemoryHigh]}"
expect_eq "lower: TasksMax" 50 "${PROP[TasksMax]}"
if systemd_at_least 257; then
  expect_eq "lower: CPUQuotaPerSecUSec (12.35%)" 123.500ms "${PROP[CPUQuotaPerSecUSec]}"
else
  expect_eq "lower: CPUQuotaPerSecUSec (13%)" 130ms "${PROP[CPUQuotaPerSecUSec]}"
fi
weight_low=${PROP[CPUWeight]}
expect_eq "lower: the main PID" "$pid" "${PROP[MainPID]}"
expect_eq "lower: leaf memory.max" 499998720 "$(leaf memory.max)"
expect_eq "lower: leaf memory.high" 399998976 "$(leaf memory.high)"
expect_eq "lower: leaf pids.max" 50 "$(leaf pids.max)"
expect_eq "lower: leaf cpu.max (exact)" "12345 100000" "$(leaf cpu.max)"
expect_eq "lower: leaf cpu.weight is CPUWeight" "$weight_low" "$(leaf cpu.weight)"
expect_eq "lower: IOWeight" 910 "${PROP[IOWeight]}"
expect_eq "lower: leaf io.weight" "default 910" "$(leaf io.weight)"
settled lower 499998720 50

# Raise everything.
bundle "$dir" "$(limits_bundle_json "$out" "$(resources 2000000000 200 80000 2048 1500000000 800)")"
applied "raise"
expect_eq "raise: exit status" 0 "$rc"
load_props "$unit"
expect_eq "raise: MemoryMax" 2000000000 "${PROP[MemoryMax]}"
expect_eq "raise: MemoryHigh" 1500000000 "${PROP[MemoryHigh]}"
expect_eq "raise: TasksMax" 200 "${PROP[TasksMax]}"
expect_eq "raise: CPUQuotaPerSecUSec" 800ms "${PROP[CPUQuotaPerSecUSec]}"
expect_ne "raise: CPUWeight changed" "$weight_low" "${PROP[CPUWeight]}"
expect_eq "raise: the main PID" "$pid" "${PROP[MainPID]}"
expect_eq "raise: leaf memory.max" 1999998976 "$(leaf memory.max)"
expect_eq "raise: leaf memory.high" 1499996160 "$(leaf memory.high)"
expect_eq "raise: leaf pids.max" 200 "$(leaf pids.max)"
expect_eq "raise: leaf cpu.max" "80000 100000" "$(leaf cpu.max)"
expect_eq "raise: leaf cpu.weight is CPUWeight" "${PROP[CPUWeight]}" "$(leaf cpu.weight)"
expect_eq "raise: IOWeight" 7980 "${PROP[IOWeight]}"
expect_eq "raise: leaf io.weight" "default 7980" "$(leaf io.weight)"
settled raise 1999998976 200
expect_rc "diff after apply: the unit is the bundle's" 0 as_dev ociunit diff "$dir"

applied "again"
expect_eq "again: exit status" 0 "$rc"
expect_match "again: nothing to change" 'nothing to change' "$applied"

# The command line only changes with a restart.
as_dev sed -i 's/"600"/"601"/' "$dir/config.json"
applied "args"
expect_eq "args: exit status" 3 "$rc"
expect_match "args: needs a restart" 'needs a restart +ExecStart --' "$applied"
expect_eq "args: the main PID" "$pid" "$(unit_prop "$unit" MainPID)"
applied "args again"
expect_eq "args again: still needs a restart (exit status)" 3 "$rc"
applied "restart" --restart
expect_eq "restart: exit status" 0 "$rc"
new_pid=$(unit_prop "$unit" MainPID)
expect_ne "restart: a new main PID" "$pid" "$new_pid"
expect_eq "restart: active" active "$(unit_prop "$unit" ActiveState)"
expect_match "restart: the new command line" 'sleep 601' "$(tr '\0' ' ' </proc/"$new_pid"/cmdline 2>&1; pgrep -u dev -a -f 'sleep 601')"
applied "after the restart"
expect_eq "after the restart: exit status" 0 "$rc"

expect_rc "uninstall" 0 as_dev ociunit uninstall "$unit"

# A transient service started by `ociunit run --service` has no unit file: apply (by its name)
# changes its live limits, and what only a start applies needs a new run, not --restart.
tdir=$OVM_WORK/ovm-apply-run
tunit=ovm-apply-run.service
tout=$OVM_WORK/apply-run.txt
note_unit "$tunit"
bundle "$tdir" "$(limits_bundle_json "$tout" "$(resources 1000000000 100 50000 1024 900000000 500)")"
expect_rc "run --service" 0 as_dev ociunit run --service -q --unit ovm-apply-run "$tdir"
wait_file "$tout" 60 || _bad "the transient payload did not write $tout"
tpid=$(unit_prop "$tunit" MainPID)
check "transient: it runs" test "$tpid" -gt 0
expect_eq "transient: no unit file" "" "$(ls "$DEV_UNITS/$tunit" 2>/dev/null)"
tleaf() { cat "$(unit_cgroup "$tunit")/payload/$1" 2>&1; }
# ttapplied LABEL ARGS...: ociunit apply of the transient unit, like applied
tapplied() {
  local label=$1
  shift
  rc=0
  applied=$(as_dev ociunit apply "$tdir" --name ovm-apply-run "$@" 2>&1) || rc=$?
  echo "  apply (transient) $*: exit $rc"
  printf '%s\n' "$applied" | sed 's/^/    | /'
}
tapplied "unchanged"
expect_eq "transient unchanged: exit status" 0 "$rc"
expect_match "transient unchanged: nothing to change" 'nothing to change' "$applied"
bundle "$tdir" "$(limits_bundle_json "$tout" "$(resources 500000000 50 12345 512 400000000 100)")"
tapplied "lower"
expect_eq "transient lower: exit status" 0 "$rc"
load_props "$tunit"
expect_eq "transient lower: MemoryMax" 500000000 "${PROP[MemoryMax]}"
expect_eq "transient lower: MemoryHigh" 400000000 "${PROP[MemoryHigh]}"
expect_eq "transient lower: TasksMax" 50 "${PROP[TasksMax]}"
expect_eq "transient lower: IOWeight" 910 "${PROP[IOWeight]}"
expect_eq "transient lower: the main PID" "$tpid" "${PROP[MainPID]}"
expect_eq "transient lower: leaf memory.max" 499998720 "$(tleaf memory.max)"
expect_eq "transient lower: leaf pids.max" 50 "$(tleaf pids.max)"
expect_eq "transient lower: leaf cpu.max (exact)" "12345 100000" "$(tleaf cpu.max)"
expect_eq "transient lower: leaf io.weight" "default 910" "$(tleaf io.weight)"
expect_eq "transient lower: still no unit file" "" "$(ls "$DEV_UNITS/$tunit" 2>/dev/null)"
expect_eq "transient lower: the unit's cgroup memory.max" 499998720 "$(cat "$(unit_cgroup "$tunit")/memory.max" 2>&1)"
bundle "$tdir" "$(limits_bundle_json "$tout" "$(resources 2000000000 200 80000 2048 1500000000 800)")"
tapplied "raise"
expect_eq "transient raise: exit status" 0 "$rc"
load_props "$tunit"
expect_eq "transient raise: MemoryMax" 2000000000 "${PROP[MemoryMax]}"
expect_eq "transient raise: TasksMax" 200 "${PROP[TasksMax]}"
expect_eq "transient raise: IOWeight" 7980 "${PROP[IOWeight]}"
expect_eq "transient raise: leaf memory.max" 1999998976 "$(tleaf memory.max)"
expect_eq "transient raise: leaf cpu.max" "80000 100000" "$(tleaf cpu.max)"
expect_eq "transient raise: the main PID" "$tpid" "${PROP[MainPID]}"
expect_eq "transient raise: the unit's cgroup memory.max" 1999998976 "$(cat "$(unit_cgroup "$tunit")/memory.max" 2>&1)"
tapplied "again"
expect_eq "transient again: exit status" 0 "$rc"
expect_match "transient again: nothing to change" 'nothing to change' "$applied"
as_dev sed -i 's/"600"/"601"/' "$tdir/config.json"
tapplied "args"
expect_eq "transient args: exit status" 3 "$rc"
expect_match "transient args: needs a restart" 'needs a restart +ExecStart --' "$applied"
expect_match "transient args: run it again" 'ociunit run --service' "$applied"
tapplied "restart" --restart
expect_eq "transient --restart: refused (exit status)" 2 "$rc"
expect_match "transient --restart: why" 'restarts with the definition it was started with' "$applied"
expect_eq "transient: the main PID at the end" "$tpid" "$(unit_prop "$tunit" MainPID)"
usys stop "$tunit" 2>/dev/null

# Container mode: the leaf is the container's own cgroup, so the container reads the lowered
# memory.max at once. It copies what it reads into a bind-mounted host directory every second.
for runtime in crun runc; do
  command -v "$runtime" >/dev/null || { _bad "$runtime is not in the image"; continue; }
  name=ovm-apply-$runtime
  cdir=$OVM_WORK/$name
  seen=$OVM_WORK/$name-out
  note_unit "$name.service"
  as_dev mkdir -p "$seen"
  # The container's shell is its PID 1, which ignores a signal it has no handler for: without
  # the trap every stop (uninstall, the transient unit's) waited for TimeoutStopSec, 90 s.
  spec_bundle "$cdir" "$runtime" \
    '["sh", "-c", "trap exit TERM; while :; do read m </sys/fs/cgroup/memory.max; echo $m >/out/memory.max; sleep 1; done"]' \
    's#"mounts": \[#"mounts": [{"destination": "/out", "type": "bind", "source": "'"$seen"'", "options": ["rbind", "rw"]},#;'
  expect_rc "$runtime: install --now" 0 as_dev ociunit install "$cdir" --runtime "$runtime" --now
  wait_file "$seen/memory.max" 60 || _bad "$runtime: the container wrote nothing into $seen"
  sleep 1
  expect_eq "$runtime: the container reads its memory.max" 999997440 "$(cat "$seen/memory.max" 2>&1)"
  cpid=$(unit_prop "$name.service" MainPID)
  as_dev sed -i 's/"limit": 1000000000/"limit": 500000000/' "$cdir/config.json"
  rc=0
  applied=$(as_dev ociunit apply "$cdir" --runtime "$runtime" 2>&1) || rc=$?
  printf '%s\n' "$applied" | sed 's/^/    | /'
  expect_eq "$runtime: apply exit status" 0 "$rc"
  expect_match "$runtime: MemoryMax changed live" 'changed live +MemoryMax' "$applied"
  leaf_name=$(printf '%s\n' "$applied" | sed -n 's#^ *changed live *\([^ ]*\)/memory\.max .*#\1#p')
  expect_eq "$runtime: the container's cgroup memory.max" 499998720 "$(cat "$(unit_cgroup "$name.service")/$leaf_name/memory.max" 2>&1)"
  seen_value() {
    for ((i = 0; i < 50; i++)); do
      [ "$(cat "$seen/memory.max" 2>/dev/null)" = "$1" ] && break
      sleep 0.1
    done
    cat "$seen/memory.max" 2>&1
  }
  expect_eq "$runtime: the container reads the new memory.max" 499998720 "$(seen_value 499998720)"
  expect_eq "$runtime: MemoryMax" 500000000 "$(unit_prop "$name.service" MemoryMax)"
  expect_eq "$runtime: the unit's cgroup memory.max" 499998720 "$(cat "$(unit_cgroup "$name.service")/memory.max" 2>&1)"
  expect_eq "$runtime: the main PID" "$cpid" "$(unit_prop "$name.service" MainPID)"
  expect_eq "$runtime: still active" active "$(unit_prop "$name.service" ActiveState)"
  expect_rc "$runtime: uninstall" 0 as_dev ociunit uninstall "$name.service"

  # The same container as a transient service of `ociunit run --service`.
  tname=ovm-apply-t$runtime
  note_unit "$tname.service"
  rm -f "$seen/memory.max"
  as_dev sed -i 's/"limit": 500000000/"limit": 1000000000/' "$cdir/config.json"
  expect_rc "$runtime transient: run --service" 0 as_dev ociunit run --service -q --unit "$tname" --runtime "$runtime" "$cdir"
  wait_file "$seen/memory.max" 60 || _bad "$runtime transient: the container wrote nothing into $seen"
  expect_eq "$runtime transient: the container reads its memory.max" 999997440 "$(seen_value 999997440)"
  cpid=$(unit_prop "$tname.service" MainPID)
  as_dev sed -i 's/"limit": 1000000000/"limit": 500000000/' "$cdir/config.json"
  rc=0
  applied=$(as_dev ociunit apply "$cdir" --name "$tname" --runtime "$runtime" 2>&1) || rc=$?
  printf '%s\n' "$applied" | sed 's/^/    | /'
  expect_eq "$runtime transient: apply exit status" 0 "$rc"
  expect_match "$runtime transient: MemoryMax changed live" 'changed live +MemoryMax' "$applied"
  expect_eq "$runtime transient: the container reads the new memory.max" 499998720 "$(seen_value 499998720)"
  expect_eq "$runtime transient: MemoryMax" 500000000 "$(unit_prop "$tname.service" MemoryMax)"
  expect_eq "$runtime transient: the main PID" "$cpid" "$(unit_prop "$tname.service" MainPID)"
  usys stop "$tname.service" >/dev/null 2>&1
done
