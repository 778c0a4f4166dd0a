# apply: install and start, then lower and raise limits with `ociunit apply`: systemd and the payload's leaf take them while the main PID stays; an args change exits 3 ("needs a restart"); --restart restarts
# suites: bookworm trixie
# variants: full
# timeout: 400
need_ociunit

out=$OVM_WORK/apply.txt
dir=$OVM_WORK/ovm-apply
unit=ovm-apply.service
note_unit "$unit"

# resources MEMORY PIDS QUOTA SHARES HIGH: the bundle's linux.resources; memory.high comes
# through a unified key.
resources() {
  printf '{"memory": {"limit": %s}, "pids": {"limit": %s}, "cpu": {"quota": %s, "period": 100000, "shares": %s}, "unified": {"memory.high": "%s"}}' "$@"
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

# leaf FILE: the payload's own cgroup file
leaf() { cat "$(unit_cgroup "$unit")/payload/$1" 2>&1; }

bundle "$dir" "$(limits_bundle_json "$out" "$(resources 1000000000 100 50000 1024 900000000)")"
expect_rc "install --now" 0 as_dev ociunit install "$dir" --now
wait_file "$out" 60 || _bad "the payload did not write $out"
pid=$(unit_prop "$unit" MainPID)
check "it runs" test "$pid" -gt 0
expect_eq "memory.max at start" 999997440 "$(leaf memory.max)"

# Lower everything.
bundle "$dir" "$(limits_bundle_json "$out" "$(resources 500000000 50 12345 512 400000000)")"
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

# Raise everything.
bundle "$dir" "$(limits_bundle_json "$out" "$(resources 2000000000 200 80000 2048 1500000000)")"
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
