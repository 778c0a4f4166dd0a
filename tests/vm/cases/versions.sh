# versions: the same bundle on 252 and 257: AllowedCPUs on both, DelegateSubgroup only from 254, the payload always in /payload
# suites: bookworm trixie
# variants: full
# timeout: 180
need_ociunit

res='{"memory": {"limit": 1000000000}, "cpu": {"cpus": "0"}, "pids": {"limit": 64}}'
# run_unit NAME [COMPILE ARGS...]: compile, start, check the payload
run_unit() {
  local name=$1 out=$OVM_WORK/$1.txt unit=$1.service
  shift
  bundle "$OVM_WORK/$name" "$(limits_bundle_json "$out" "$res")"
  compile_user "$OVM_WORK/$name" "$unit" "$@" || return 1
  text=$(cat "$DEV_UNITS/$unit")
  expect_match "$name: AllowedCPUs=0 in the unit" $'(^|\n)AllowedCPUs=0(\n|$)' "$text"
  usys daemon-reload
  expect_rc "$name: start" 0 usys start "$unit"
  wait_file "$out" 30 || _bad "$name: the payload did not write $out"
  expect_match "$name: payload cgroup" "/$unit/payload\$" "$(kv "$out" cgroup)"
  expect_eq "$name: cpuset.cpus" 0 "$(kv "$out" cpuset.cpus)"
  expect_eq "$name: cpuset.cpus.effective" 0 "$(kv "$out" cpuset.cpus.effective)"
  expect_eq "$name: memory.max" 999997440 "$(kv "$out" memory.max)"
  expect_eq "$name: pids.max" 64 "$(kv "$out" pids.max)"
  expect_eq "$name: AllowedCPUs property" 0 "$(unit_prop "$unit" AllowedCPUs)"
  expect_empty "$name: systemd-analyze --user verify" \
    "$(as_dev systemd-analyze --user verify "$DEV_UNITS/$unit" 2>&1)"
  usys stop "$unit"
}

# Compiled for the systemd that runs here (the default --systemd-version).
run_unit ovm-ver-native
if systemd_at_least 254; then
  expect_match "native: DelegateSubgroup=payload on $OVM_SYSTEMD" $'(^|\n)DelegateSubgroup=payload(\n|$)' "$text"
else
  expect_no_match "native: no DelegateSubgroup on $OVM_SYSTEMD" 'DelegateSubgroup' "$text"
fi
expect_match "native: TargetSystemd=$OVM_SYSTEMD" "TargetSystemd=$OVM_SYSTEMD" "$text"

# On 257, a unit compiled for 252 still works: the launcher makes the leaf.
if systemd_at_least 254; then
  run_unit ovm-ver-252 --systemd-version 252
  expect_no_match "for 252: no DelegateSubgroup" 'DelegateSubgroup' "$text"
fi
