# run-scope: ociunit run --scope: the payload sees its limits in its own cgroup and systemctl --user show reports them on the scope
# suites: bookworm trixie
# variants: full stock
# timeout: 180
need_ociunit

out=$OVM_WORK/scope.txt
scope=ovm-run-scope.scope
bundle "$OVM_WORK/ovm-run-scope" "$(limits_bundle_json "$out" \
  '{"memory": {"limit": 1000000000}, "pids": {"limit": 50}, "cpu": {"quota": 12345, "period": 100000}}')"
note_unit "$scope"
as_dev ociunit run --scope --unit "$scope" "$OVM_WORK/ovm-run-scope" \
  >"$OVM_OUT/run.out" 2>"$OVM_OUT/run.err" &
runner=$!
wait_file "$out" 60 || _bad "the payload did not write $out ($(head -c 400 "$OVM_OUT/run.err"))"
[ -f "$out" ] && sed 's/^/    > /' "$out"
expect_match "payload cgroup" "/$scope/payload\$" "$(kv "$out" cgroup)"
expect_eq "memory.max (payload's own cgroup)" 999997440 "$(kv "$out" memory.max)"
expect_eq "pids.max" 50 "$(kv "$out" pids.max)"
expect_eq "cpu.max (exact, not systemd's rounded quota)" "12345 100000" "$(kv "$out" cpu.max)"
load_props "$scope"
expect_eq "ActiveState" active "${PROP[ActiveState]-}"
expect_eq "MemoryMax on the scope" 1000000000 "${PROP[MemoryMax]-}"
expect_eq "TasksMax on the scope" 50 "${PROP[TasksMax]-}"
expect_eq "Delegate" yes "${PROP[Delegate]-}"
if systemd_at_least 257; then
  expect_match "CPUQuotaPerSecUSec (0.01% steps from 257)" "^123.50*ms$" "${PROP[CPUQuotaPerSecUSec]-}"
else
  expect_eq "CPUQuotaPerSecUSec (rounded up to 1% before 257)" 130ms "${PROP[CPUQuotaPerSecUSec]-}"
fi
expect_eq "the scope's main process is the payload" "$(kv "$out" pid)" \
  "$(cat "/sys/fs/cgroup${PROP[ControlGroup]-}/payload/cgroup.procs" 2>&1)"
usys stop "$scope"
rc=0
wait "$runner" || rc=$?
expect_ne "ociunit run ends with the payload when the scope is stopped" 0 "$rc"
