# bench-apply: ociunit apply of a one-field change (memory.limit) against systemctl --user set-property MemoryMax= and against editing a unit file + daemon-reload; a transient service's against set-property --runtime; interleaved
# suites: trixie
# variants: full
# timeout: 900
need_ociunit

n=${OVM_BENCH_RUNS:-21}
ours=$OVM_WORK/ovm-bench-apply
theirs=$OVM_WORK/ovm-bench-setprop
hand=ovm-bench-edit.service
note_unit ovm-bench-apply.service ovm-bench-setprop.service "$hand" ovm-bench-tapply.service ovm-bench-trun.service
resources() { printf '{"memory": {"limit": %s}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}' "$1"; }
bundle "$ours" "$(limits_bundle_json "$OVM_WORK/bench-apply.out" "$(resources 1000000000)")"
bundle "$theirs" "$(limits_bundle_json "$OVM_WORK/bench-setprop.out" "$(resources 1000000000)")"
expect_rc "install --now (apply's unit)" 0 as_dev ociunit install "$ours" --now
expect_rc "install --now (set-property's unit)" 0 as_dev ociunit install "$theirs" --now
# The durable equivalent of apply by hand: edit the unit file, daemon-reload (which applies
# the new cgroup limits to the running unit, as apply's reload does).
unit_file=/home/dev/.config/systemd/user/$hand
printf '[Service]\nExecStart=/bin/sleep infinity\nMemoryMax=1000000000\nTasksMax=100\n' | as_dev tee "$unit_file" >/dev/null
expect_rc "daemon-reload (the hand-written unit)" 0 usys daemon-reload
expect_rc "start the hand-written unit" 0 usys start "$hand"
pid=$(unit_prop ovm-bench-apply.service MainPID)
# The bundle is edited outside the timed span: the user's edit is not apply's cost. Each run
# alternates the limit, so every apply, set-property and edit changes it.
config=$(limits_bundle_json "$OVM_WORK/bench-apply.out" "$(resources @)")
cat >"$OVM_WORK/bench.sh" <<'SCRIPT'
#!/bin/bash
n=$1 bundle=$2 config=$3 unit_file=$4
for ((i = 0; i < n; i++)); do
  value=$(( i % 2 ? 1000000000 : 500000000 ))
  printf '%s\n' "${config/@/$value}" >"$bundle/config.json"
  t0=$EPOCHREALTIME
  ociunit apply "$bundle" >/dev/null 2>&1 || echo "ociunit apply failed: $?" >&2
  t1=$EPOCHREALTIME
  systemctl --user set-property ovm-bench-setprop.service "MemoryMax=$value" >/dev/null 2>&1 || echo "set-property failed" >&2
  t2=$EPOCHREALTIME
  sed -i "s/^MemoryMax=.*/MemoryMax=$value/" "$unit_file"
  systemctl --user daemon-reload >/dev/null 2>&1 || echo "daemon-reload failed" >&2
  t3=$EPOCHREALTIME
  # Where apply's time goes: the comparison alone (a dry run).
  ociunit apply --dry-run "$bundle" >/dev/null 2>&1 || echo "ociunit apply --dry-run failed: $?" >&2
  t4=$EPOCHREALTIME
  echo "${t0/./} ${t1/./} ${t2/./} ${t3/./} ${t4/./}"
done
SCRIPT
chmod +x "$OVM_WORK/bench.sh"
as_dev "$OVM_WORK/bench.sh" "$n" "$ours" "$config" "$unit_file" >"$OVM_OUT/times" 2>"$OVM_OUT/bench.err"
expect_eq "no failed run" "" "$(cat "$OVM_OUT/bench.err")"
last=$(( (n - 1) % 2 ? 1000000000 : 500000000 ))
expect_eq "apply's unit: the main PID" "$pid" "$(unit_prop ovm-bench-apply.service MainPID)"
expect_eq "apply's unit: the last MemoryMax" "$last" "$(unit_prop ovm-bench-apply.service MemoryMax)"
expect_eq "set-property's unit: the last MemoryMax" "$last" "$(unit_prop ovm-bench-setprop.service MemoryMax)"
expect_eq "the edited unit: the last MemoryMax" "$last" "$(unit_prop "$hand" MemoryMax)"
# Not a check of ours: from systemd 257 on a reload leaves the running unit's cgroup as it was,
# which is why apply sets the limits with SetUnitProperties (see README, apply).
note "edit + daemon-reload: MemoryMax $(unit_prop "$hand" MemoryMax), its cgroup's memory.max $(cat "/sys/fs/cgroup$(unit_prop "$hand" ControlGroup)/memory.max")"
# medians FILE: the median in ms of each column difference, then the first over the second and
# (with three or more) the first over the third.
medians() {
  awk '
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { for (k = 1; k < NF; k++) d[k, NR] = $(k + 1) - $k; cols = NF - 1 }
  END { for (k = 1; k <= cols; k++) { for (i = 1; i <= NR; i++) c[i] = d[k, i]; m[k] = median(c, NR); printf "%.1f ", m[k] / 1000 }
    printf "%.3f %s\n", m[1] / m[2], (cols > 2 ? sprintf("%.3f", m[1] / m[3]) : "-") }' "$1"
}
read -r mine theirs_ms edit dry ratio ratio_edit < <(medians "$OVM_OUT/times")
note "installed unit, $n runs each, interleaved; median ociunit apply ${mine} ms, systemctl --user set-property ${theirs_ms} ms (ratio ${ratio}), edit + daemon-reload ${edit} ms (ratio ${ratio_edit})"
note "where the time goes: median ociunit apply --dry-run ${dry} ms; the rest is the manager's reload"
echo "bench-apply: ociunit-apply=${mine}ms set-property=${theirs_ms}ms ratio=${ratio} edit+daemon-reload=${edit}ms ratio=${ratio_edit}" >>"$OVM_OUT/bench.txt"

# A transient service: no file, no reload; apply's runtime change against set-property --runtime
# of a systemd-run service with the same limits.
tb=$OVM_WORK/ovm-bench-tapply
bundle "$tb" "$(limits_bundle_json "$OVM_WORK/bench-tapply.out" "$(resources 1000000000)")"
expect_rc "run --service (apply's transient unit)" 0 as_dev ociunit run --service --unit ovm-bench-tapply --no-block "$tb"
expect_rc "systemd-run (set-property's transient unit)" 0 as_dev systemd-run --user --quiet --unit ovm-bench-trun \
  -p MemoryMax=1000000000 -p TasksMax=100 /bin/sleep infinity
wait_file "$OVM_WORK/bench-tapply.out" 60 || _bad "the transient payload did not start"
tpid=$(unit_prop ovm-bench-tapply.service MainPID)
tconfig=$(limits_bundle_json "$OVM_WORK/bench-tapply.out" "$(resources @)")
cat >"$OVM_WORK/tbench.sh" <<'SCRIPT'
#!/bin/bash
n=$1 bundle=$2 config=$3
for ((i = 0; i < n; i++)); do
  value=$(( i % 2 ? 1000000000 : 500000000 ))
  printf '%s\n' "${config/@/$value}" >"$bundle/config.json"
  t0=$EPOCHREALTIME
  ociunit apply --name ovm-bench-tapply "$bundle" >/dev/null 2>&1 || echo "ociunit apply --name failed: $?" >&2
  t1=$EPOCHREALTIME
  systemctl --user set-property --runtime ovm-bench-trun.service "MemoryMax=$value" >/dev/null 2>&1 || echo "set-property --runtime failed" >&2
  t2=$EPOCHREALTIME
  echo "${t0/./} ${t1/./} ${t2/./}"
done
SCRIPT
chmod +x "$OVM_WORK/tbench.sh"
as_dev "$OVM_WORK/tbench.sh" "$n" "$tb" "$tconfig" >"$OVM_OUT/ttimes" 2>"$OVM_OUT/tbench.err"
expect_eq "no failed transient run" "" "$(cat "$OVM_OUT/tbench.err")"
expect_eq "apply's transient unit: the main PID" "$tpid" "$(unit_prop ovm-bench-tapply.service MainPID)"
expect_eq "apply's transient unit: the last MemoryMax" "$last" "$(unit_prop ovm-bench-tapply.service MemoryMax)"
expect_eq "set-property's transient unit: the last MemoryMax" "$last" "$(unit_prop ovm-bench-trun.service MemoryMax)"
read -r tmine ttheirs tratio _ < <(medians "$OVM_OUT/ttimes")
note "transient service, $n runs each, interleaved; median ociunit apply --name ${tmine} ms, systemctl --user set-property --runtime ${ttheirs} ms, ratio ${tratio}"
echo "bench-apply (transient): ociunit-apply=${tmine}ms set-property-runtime=${ttheirs}ms ratio=${tratio}" >>"$OVM_OUT/bench.txt"
usys stop ovm-bench-tapply.service ovm-bench-trun.service "$hand" >/dev/null 2>&1
as_dev rm -f "$unit_file"

expect_rc "uninstall (apply's unit)" 0 as_dev ociunit uninstall ovm-bench-apply.service
expect_rc "uninstall (set-property's unit)" 0 as_dev ociunit uninstall ovm-bench-setprop.service
