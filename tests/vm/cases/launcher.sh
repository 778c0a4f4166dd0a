# launcher: ociunit-launch in a real delegated tree: leaf, controllers, writes, exec; fails closed (125) without a controller
# suites: bookworm trixie
# variants: full stock
# timeout: 180
need_ociunit
L=/usr/local/bin/ociunit-launch

# 1. A transient service with Delegate=yes runs the launcher directly.
u=ovm-launch-ok.service
out=$OVM_WORK/launch.txt
note_unit "$u"
writes=(--write memory.max=1000000000 --write pids.max=77 --write "cpu.max=25000 100000" --write cpu.weight=50)
[ "$OVM_VARIANT" = stock ] || writes+=(--write "io.weight=default 300" --write cpuset.cpus=0)
expect_rc "systemd-run --user $u (launcher)" 0 as_dev systemd-run --user --quiet --unit="$u" \
  -p Delegate=yes "$L" --leaf payload --controllers memory,pids "${writes[@]}" \
  --clear-env --env PATH=/usr/bin:/bin --env 'OVM_X=a b' \
  -- /usr/local/libexec/ovm-cgdump "$out" sleep 600
wait_file "$out" 30 || _bad "the payload did not write $out"
[ -f "$out" ] && sed 's/^/    > /' "$out"
cg=$(unit_cgroup "$u")
expect_match "payload cgroup" "/$u/payload\$" "$(kv "$out" cgroup)"
check "leaf directory exists" test -d "$cg/payload"
expect_eq "leaf memory.max" 999997440 "$(kv "$out" memory.max)"
expect_eq "leaf pids.max" 77 "$(kv "$out" pids.max)"
expect_eq "leaf cpu.max" "25000 100000" "$(kv "$out" cpu.max)"
expect_eq "leaf cpu.weight" 50 "$(kv "$out" cpu.weight)"
sub=" $(cat "$cg/cgroup.subtree_control") "
for c in memory pids cpu; do
  expect_match "$c enabled in the unit's cgroup.subtree_control" " $c " "$sub"
done
if [ "$OVM_VARIANT" = full ]; then
  expect_eq "leaf io.weight" "default 300" "$(kv "$out" io.weight)"
  expect_eq "leaf cpuset.cpus" 0 "$(kv "$out" cpuset.cpus)"
  for c in io cpuset; do
    expect_match "$c enabled in the unit's cgroup.subtree_control" " $c " "$sub"
  done
fi
main=$(unit_prop "$u" MainPID)
expect_eq "MainPID is the payload (exec, no fork)" "$(kv "$out" pid)" "$main"
expect_eq "MainPID runs sleep" sleep "$(cat "/proc/$main/comm" 2>&1)"
expect_eq "the unit's own cgroup has no processes" "" "$(cat "$cg/cgroup.procs")"
usys stop "$u"

# 1b. Nothing to enable or write, only the leaf: the launcher still enables pids
#     above it, so that systemd's second attach of the new process (from the
#     manager, before 256; late on a busy host) cannot pull the payload back out of
#     its leaf. Root plays that late attach here: the kernel must refuse it.
u=ovm-launch-pin.service
out=$OVM_WORK/launch-pin.txt
note_unit "$u"
expect_rc "systemd-run --user $u (launcher, --leaf only)" 0 as_dev systemd-run --user --quiet \
  --unit="$u" -p Delegate=yes "$L" --leaf payload -- /usr/local/libexec/ovm-cgdump "$out" sleep 600
wait_file "$out" 30 || _bad "the payload did not write $out"
cg=$(unit_cgroup "$u")
expect_eq "--leaf only: pids enabled in the unit's cgroup.subtree_control" pids "$(cat "$cg/cgroup.subtree_control")"
main=$(unit_prop "$u" MainPID)
late=$( { echo "$main" >"$cg/cgroup.procs"; } 2>&1) && late=moved
expect_match "a late attach to the unit's cgroup is refused" 'busy' "$late"
expect_match "the payload is still in its leaf" "/$u/payload\$" "$(cut -d: -f3 "/proc/$main/cgroup")"
usys stop "$u"

# 2. With DelegateSubgroup=payload (systemd >= 254) the launcher already runs
#    in the leaf and must not nest another one.
if systemd_at_least 254; then
  u=ovm-launch-sub.service
  out=$OVM_WORK/launch-sub.txt
  note_unit "$u"
  expect_rc "systemd-run --user $u (DelegateSubgroup=payload)" 0 as_dev systemd-run --user --quiet \
    --unit="$u" -p Delegate=yes -p DelegateSubgroup=payload "$L" --leaf payload \
    --write pids.max=55 --clear-env -- /usr/local/libexec/ovm-cgdump "$out" sleep 600
  wait_file "$out" 30 || _bad "the payload did not write $out"
  expect_match "payload cgroup (no nested leaf)" "/$u/payload\$" "$(kv "$out" cgroup)"
  expect_eq "leaf pids.max" 55 "$(kv "$out" pids.max)"
  usys stop "$u"
fi

# 3. Fail closed: a write or a controller that is not delegated.
# run_scope ARGS...: the launcher in a delegated scope, as dev; sets rc, err
run_scope() {
  rc=0
  err=$(as_dev systemd-run --user --scope --quiet -p Delegate=yes "$L" --leaf payload "$@" 2>&1 >/dev/null) || rc=$?
}
for w in "io.weight=default 300" "cpuset.cpus=0"; do
  run_scope --write "$w" -- /bin/true
  if [ "$OVM_VARIANT" = stock ]; then
    expect_eq "--write '$w' without the controller: exit" 125 "$rc"
    expect_match "--write '$w': one-line message" '^ociunit-launch: [^'$'\n'']+$' "$err"
  else
    expect_eq "--write '$w' with the controller: exit" 0 "$rc"
  fi
done
run_scope --controllers io -- /bin/true
if [ "$OVM_VARIANT" = stock ]; then
  expect_eq "--controllers io without io: exit" 125 "$rc"
  expect_match "--controllers io: one-line message" '^ociunit-launch: [^'$'\n'']+$' "$err"
else
  expect_eq "--controllers io with io: exit" 0 "$rc"
fi
# hugetlb is never delegated by systemd (unless root enabled it: see the hugetlb case).
if grep -qw hugetlb /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers; then
  case_fail "hugetlb is delegated to dev (left over from another case?)"
fi
run_scope --write hugetlb.2MB.max=4194304 -- /bin/true
expect_eq "--write hugetlb.2MB.max (never delegated): exit" 125 "$rc"
expect_match "--write hugetlb.2MB.max: one-line message" '^ociunit-launch: [^'$'\n'']+$' "$err"

# 4. The environment: --clear-env, then exactly the --env variables.
run_scope --clear-env --env PATH=/usr/bin:/bin --env 'OVM_X=a b' --env 'OVM_Y=' \
  -- /usr/local/libexec/ovm-dump "$OVM_WORK/envdump"
expect_eq "--clear-env --env payload: exit" 0 "$rc"
expect_eq "environment (--clear-env --env)" "OVM_X=a b|OVM_Y=|PATH=/usr/bin:/bin" \
  "$(tr '\0' '\n' <"$OVM_WORK/envdump/env" | sort | paste -sd'|')"
expect_eq "argv" "/usr/local/libexec/ovm-dump|$OVM_WORK/envdump" \
  "$(tr '\0' '\n' <"$OVM_WORK/envdump/argv" | paste -sd'|')"

# 5. Payload problems: 127 not found, 126 not executable.
run_scope -- /nonexistent/ovm-payload
expect_eq "missing payload: exit" 127 "$rc"
run_scope -- /etc/hostname
expect_eq "payload not executable: exit" 126 "$rc"
