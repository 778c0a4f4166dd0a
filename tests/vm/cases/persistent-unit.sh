# persistent-unit: compile -> ~/.config/systemd/user -> daemon-reload -> start; the payload sees the limits
# suites: bookworm trixie
# variants: full stock
# timeout: 180
need_ociunit

# full delegation: memory, swap, cpu, pids and io; stock: no io (it is not
# delegated there; see the fail-closed case).
res='"memory": {"limit": 1000000000, "swap": 1500000000},
    "cpu": {"shares": 1024, "quota": 50000, "period": 100000},
    "pids": {"limit": 100}'
if [ "$OVM_VARIANT" = full ]; then
  res="$res, \"blockIO\": {\"weight\": 500}"
fi
out=$OVM_WORK/limits.txt
bundle "$OVM_WORK/ovm-limits" "$(limits_bundle_json "$out" "{ $res }")"
unit=ovm-limits.service
compile_user "$OVM_WORK/ovm-limits" "$unit" || case_fail "compile failed"
sed 's/^/    | /' "$DEV_UNITS/$unit"

expect_empty "systemd-analyze --user verify" \
  "$(as_dev systemd-analyze --user verify "$DEV_UNITS/$unit" 2>&1)"
usys daemon-reload
expect_rc "systemctl --user start $unit" 0 usys start "$unit"
wait_file "$out" 30 || _bad "the payload did not write $out"
[ -f "$out" ] && sed 's/^/    > /' "$out"

# What the payload sees in its own cgroup (the launcher's leaf).
expect_match "payload cgroup ends in /payload" '/ovm-limits\.service/payload$' "$(kv "$out" cgroup)"
expect_eq "memory.max" 999997440 "$(kv "$out" memory.max)"
# OCI swap is memory+swap: 1500000000 - 1000000000, rounded down to pages.
expect_eq "memory.swap.max" 499998720 "$(kv "$out" memory.swap.max)"
expect_eq "pids.max" 100 "$(kv "$out" pids.max)"
expect_eq "cpu.max" "50000 100000" "$(kv "$out" cpu.max)"
expect_eq "cpu.weight" 100 "$(kv "$out" cpu.weight)"
if [ "$OVM_VARIANT" = full ]; then
  expect_eq "io.weight" "default 4950" "$(kv "$out" io.weight)"
fi

# What systemd applied at the unit level.
load_props "$unit"
expect_eq "ActiveState" active "${PROP[ActiveState]-}"
expect_eq "MemoryMax" 1000000000 "${PROP[MemoryMax]-}"
expect_eq "MemorySwapMax" 500000000 "${PROP[MemorySwapMax]-}"
expect_eq "TasksMax" 100 "${PROP[TasksMax]-}"
expect_eq "CPUQuotaPerSecUSec" 500ms "${PROP[CPUQuotaPerSecUSec]-}"
expect_eq "CPUWeight" 100 "${PROP[CPUWeight]-}"
expect_eq "Delegate" yes "${PROP[Delegate]-}"
if [ "$OVM_VARIANT" = full ]; then
  expect_eq "IOWeight" 4950 "${PROP[IOWeight]-}"
fi
cg=/sys/fs/cgroup${PROP[ControlGroup]-}
expect_eq "unit cgroup memory.max" 999997440 "$(cat "$cg/memory.max" 2>&1)"
expect_eq "unit cgroup pids.max" 100 "$(cat "$cg/pids.max" 2>&1)"
expect_eq "unit cgroup cpu.max" "50000 100000" "$(cat "$cg/cpu.max" 2>&1)"

# The launcher exec'd: the main process is the payload, alone in the leaf.
main=$(unit_prop "$unit" MainPID)
expect_eq "MainPID is the payload (pid the payload reported)" "$(kv "$out" pid)" "$main"
expect_eq "MainPID runs sleep now" sleep "$(cat "/proc/$main/comm" 2>&1)"
expect_eq "leaf cgroup.procs" "$main" "$(cat "$cg/payload/cgroup.procs" 2>&1 | tr '\n' ' ' | sed 's/ $//')"

expect_rc "systemctl --user stop $unit" 0 usys stop "$unit"
