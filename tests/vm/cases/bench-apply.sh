# bench-apply: ociunit apply of a one-field change (memory.limit) against systemctl --user set-property MemoryMax= on a unit of the same kind, interleaved
# suites: trixie
# variants: full
# timeout: 900
need_ociunit

n=${OVM_BENCH_RUNS:-21}
ours=$OVM_WORK/ovm-bench-apply
theirs=$OVM_WORK/ovm-bench-setprop
note_unit ovm-bench-apply.service ovm-bench-setprop.service
resources() { printf '{"memory": {"limit": %s}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}' "$1"; }
bundle "$ours" "$(limits_bundle_json "$OVM_WORK/bench-apply.out" "$(resources 1000000000)")"
bundle "$theirs" "$(limits_bundle_json "$OVM_WORK/bench-setprop.out" "$(resources 1000000000)")"
expect_rc "install --now (apply's unit)" 0 as_dev ociunit install "$ours" --now
expect_rc "install --now (set-property's unit)" 0 as_dev ociunit install "$theirs" --now
pid=$(unit_prop ovm-bench-apply.service MainPID)
# The bundle is edited outside the timed span: the user's edit is not apply's cost. Each run
# alternates the limit, so every apply and every set-property changes it.
config=$(limits_bundle_json "$OVM_WORK/bench-apply.out" "$(resources @)")
cat >"$OVM_WORK/bench.sh" <<'SCRIPT'
#!/bin/bash
n=$1 bundle=$2 config=$3
for ((i = 0; i < n; i++)); do
  value=$(( i % 2 ? 1000000000 : 500000000 ))
  printf '%s\n' "${config/@/$value}" >"$bundle/config.json"
  t0=$EPOCHREALTIME
  ociunit apply "$bundle" >/dev/null 2>&1 || echo "ociunit apply failed: $?" >&2
  t1=$EPOCHREALTIME
  systemctl --user set-property ovm-bench-setprop.service "MemoryMax=$value" >/dev/null 2>&1 || echo "set-property failed" >&2
  t2=$EPOCHREALTIME
  # Where apply's time goes: the comparison alone (a dry run), and the manager's reload.
  ociunit apply --dry-run "$bundle" >/dev/null 2>&1 || echo "ociunit apply --dry-run failed: $?" >&2
  t3=$EPOCHREALTIME
  systemctl --user daemon-reload >/dev/null 2>&1 || echo "daemon-reload failed" >&2
  t4=$EPOCHREALTIME
  echo "${t0/./} ${t1/./} ${t2/./} ${t3/./} ${t4/./}"
done
SCRIPT
chmod +x "$OVM_WORK/bench.sh"
as_dev "$OVM_WORK/bench.sh" "$n" "$ours" "$config" >"$OVM_OUT/times" 2>"$OVM_OUT/bench.err"
expect_eq "no failed run" "" "$(cat "$OVM_OUT/bench.err")"
expect_eq "apply's unit: the main PID" "$pid" "$(unit_prop ovm-bench-apply.service MainPID)"
expect_eq "apply's unit: the last MemoryMax" "$(( (n - 1) % 2 ? 1000000000 : 500000000 ))" "$(unit_prop ovm-bench-apply.service MemoryMax)"
expect_eq "set-property's unit: the last MemoryMax" "$(( (n - 1) % 2 ? 1000000000 : 500000000 ))" "$(unit_prop ovm-bench-setprop.service MemoryMax)"
# Medians in ms of apply, set-property, apply --dry-run, daemon-reload; then the ratio.
read -r mine theirs_ms dry reload ratio < <(awk '
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { for (k = 1; k <= 4; k++) d[k, NR] = $(k + 1) - $k }
  END { for (k = 1; k <= 4; k++) { for (i = 1; i <= NR; i++) c[i] = d[k, i]; m[k] = median(c, NR) }
    printf "%.1f %.1f %.1f %.1f %.3f\n", m[1] / 1000, m[2] / 1000, m[3] / 1000, m[4] / 1000, m[1] / m[2] }' "$OVM_OUT/times")
note "runs: $n each, interleaved; median ociunit apply ${mine} ms, systemctl --user set-property ${theirs_ms} ms, ratio ${ratio}"
note "where the time goes: median ociunit apply --dry-run ${dry} ms, systemctl --user daemon-reload ${reload} ms"
echo "bench-apply: ociunit-apply=${mine}ms set-property=${theirs_ms}ms ratio=${ratio}" >>"$OVM_OUT/bench.txt"
# The bus traffic of one apply (systemctl talks to the manager over its private socket, which a
# bus monitor does not see).
printf '%s\n' "${config/@/777000000}" | as_dev tee "$ours/config.json" >/dev/null
as_dev timeout 8 busctl --user monitor --json=short >"$OVM_OUT/apply.bus" 2>/dev/null &
monitor=$!
sleep 2
as_dev ociunit apply "$ours" >/dev/null 2>&1
wait "$monitor"
note "D-Bus method calls of one apply: $(grep '"type":"method_call"' "$OVM_OUT/apply.bus" | sed -n 's/.*"member":"\([^"]*\)".*/\1/p' | tr '\n' ' ')"
expect_rc "uninstall (apply's unit)" 0 as_dev ociunit uninstall ovm-bench-apply.service
expect_rc "uninstall (set-property's unit)" 0 as_dev ociunit uninstall ovm-bench-setprop.service
