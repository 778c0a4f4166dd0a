# hugetlb: hugepageLimits reach the payload's hugetlb.2MB.max once root has enabled hugetlb down to app.slice (systemd never delegates it)
# suites: bookworm trixie
# variants: full
# timeout: 180
need_ociunit
grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers || case_skip "the kernel has no hugetlb controller"
[ -e /sys/kernel/mm/hugepages/hugepages-2048kB ] || case_skip "no 2MB huge pages"

res='{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}], "pids": {"limit": 50}}'
# 1. As systemd leaves it: hugetlb is not delegated, the launcher fails closed.
name=ovm-huge-closed out=$OVM_WORK/ovm-huge-closed.txt unit=ovm-huge-closed.service
bundle "$OVM_WORK/$name" "$(limits_bundle_json "$out" "$res")"
compile_user "$OVM_WORK/$name" "$unit" || case_fail "compile failed"
expect_match "hugetlb.2MB.max write in the unit" 'hugetlb\.2MB\.max=4194304' "$(cat "$DEV_UNITS/$unit")"
usys daemon-reload
usys start "$unit" 2>/dev/null
wait_inactive "$unit" 30
expect_eq "without hugetlb delegated: exit status" 125 "$(unit_prop "$unit" ExecMainStatus)"
check "without hugetlb delegated: the payload did not run" test ! -e "$out"

# 2. Root enables hugetlb from the root cgroup down to dev's app.slice
#    (systemd only manages the controllers it knows, so it leaves this alone).
usys start ovm-huge-dummy.service 2>/dev/null ||
  as_dev systemd-run --user --quiet --unit=ovm-huge-dummy sleep 600
note_unit ovm-huge-dummy.service
p=/sys/fs/cgroup
for d in "" user.slice user-1000.slice user@1000.service app.slice; do
  p=$p${d:+/$d}
  echo +hugetlb >"$p/cgroup.subtree_control" || _bad "cannot enable hugetlb in $p"
done
check "hugetlb enabled for app.slice's children" grep -qw hugetlb "$p/cgroup.subtree_control"
name=ovm-huge out=$OVM_WORK/ovm-huge.txt unit=ovm-huge.service
bundle "$OVM_WORK/$name" "$(limits_bundle_json "$out" "$res")"
compile_user "$OVM_WORK/$name" "$unit" || case_fail "compile failed"
usys daemon-reload
expect_rc "start $unit" 0 usys start "$unit"
wait_file "$out" 30 || _bad "the payload did not write $out"
[ -f "$out" ] && sed 's/^/    > /' "$out"
expect_match "payload cgroup" "/$unit/payload\$" "$(kv "$out" cgroup)"
expect_eq "hugetlb.2MB.max" 4194304 "$(kv "$out" hugetlb.2MB.max)"
expect_eq "pids.max" 50 "$(kv "$out" pids.max)"
usys stop "$unit" ovm-huge-dummy.service

# Undo it, bottom up, so that the later cases in this boot see systemd's tree.
for d in user.slice/user-1000.slice/user@1000.service/app.slice \
    user.slice/user-1000.slice/user@1000.service user.slice/user-1000.slice user.slice ""; do
  echo -hugetlb >"/sys/fs/cgroup${d:+/$d}/cgroup.subtree_control" 2>/dev/null ||
    note "could not disable hugetlb in /sys/fs/cgroup/$d"
done
expect_no_match "hugetlb disabled again for dev" hugetlb \
  "$(cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers)"
