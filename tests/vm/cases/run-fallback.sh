# run-fallback: ociunit run asks the manager for its version: 252 gets the launcher fallbacks, 257 the properties
# suites: bookworm trixie
# variants: full
# timeout: 180
need_ociunit

out=$OVM_WORK/fb.txt
bundle "$OVM_WORK/ovm-fb" "$(limits_bundle_json "$out" \
  '{"memory": {"limit": 536870912}, "unified": {"memory.zswap.max": "0"}, "cpu": {"cpus": "0"}}')"
unit=ovm-fb.service
note_unit "$unit"
listing=$(as_dev ociunit run --service --dry-run --unit "$unit" --systemd-version "$OVM_SYSTEMD" "$OVM_WORK/ovm-fb" 2>/dev/null)
printf '%s\n' "$listing" | sed 's/^/    | /'
expect_match "AllowedCPUs sent on both" 'AllowedCPUs ay \[1\]' "$listing"
if systemd_at_least 254; then
  expect_match "257: DelegateSubgroup sent" 'DelegateSubgroup s "payload"' "$listing"
  expect_match "257: MemoryZSwapMax sent" 'MemoryZSwapMax t 0' "$listing"
else
  expect_no_match "252: no DelegateSubgroup" 'DelegateSubgroup' "$listing"
  expect_no_match "252: no MemoryZSwapMax property" 'MemoryZSwapMax t' "$listing"
  expect_match "252: the launcher writes memory.zswap.max" 'memory.zswap.max=0' "$listing"
fi
as_dev ociunit run --service --no-block -q --unit "$unit" "$OVM_WORK/ovm-fb" 2>"$OVM_OUT/run.err" \
  || _bad "run failed: $(cat "$OVM_OUT/run.err")"
wait_file "$out" 60 || _bad "the payload did not write $out"
[ -f "$out" ] && sed 's/^/    > /' "$out"
expect_match "payload in the leaf on both" "/$unit/payload\$" "$(kv "$out" cgroup)"
expect_eq "memory.max" 536870912 "$(kv "$out" memory.max)"
expect_eq "cpuset.cpus" 0 "$(kv "$out" cpuset.cpus)"
expect_eq "AllowedCPUs on the unit" 0 "$(unit_prop "$unit" AllowedCPUs)"
usys stop "$unit"
