# bench-run: ociunit run --scope against systemd-run --user --scope with the same properties, interleaved
# suites: trixie
# variants: full
# timeout: 600
need_ociunit

n=${OVM_BENCH_RUNS:-40}
bundle "$OVM_WORK/ovm-bench" '{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/true"], "env": ["PATH=/usr/bin:/bin"]},
  "linux": {"resources": {"memory": {"limit": 1000000000}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}}
}'
props=(-p Delegate=yes -p MemoryMax=1000000000 -p TasksMax=100 -p CPUWeight=100)
# Time one command in ns, as dev, inside one runuser (so runuser's cost is not counted).
cat >"$OVM_WORK/bench.sh" <<'SCRIPT'
#!/bin/bash
n=$1 bundle=$2; shift 2
for ((i = 0; i < n; i++)); do
  t0=$EPOCHREALTIME
  ociunit run --scope -q "$bundle" >/dev/null 2>&1 || echo "ociunit failed" >&2
  t1=$EPOCHREALTIME
  systemd-run --user --scope -q "$@" /bin/true >/dev/null 2>&1 || echo "systemd-run failed" >&2
  t2=$EPOCHREALTIME
  echo "${t0/./} ${t1/./} ${t2/./}"
done
SCRIPT
chmod +x "$OVM_WORK/bench.sh"
as_dev "$OVM_WORK/bench.sh" "$n" "$OVM_WORK/ovm-bench" "${props[@]}" >"$OVM_OUT/times" 2>"$OVM_OUT/bench.err"
expect_eq "no failed run" "" "$(cat "$OVM_OUT/bench.err")"
read -r ours theirs ratio < <(awk '{ o[NR] = $2 - $1; s[NR] = $3 - $2 }
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { mo = median(o, NR); ms = median(s, NR); printf "%.1f %.1f %.3f\n", mo / 1000, ms / 1000, mo / ms }' "$OVM_OUT/times")
note "runs: $n each, interleaved; median ociunit run --scope ${ours} ms, systemd-run --user --scope ${theirs} ms, ratio ${ratio}"
echo "bench-run: ociunit=${ours}ms systemd-run=${theirs}ms ratio=${ratio}" >>"$OVM_OUT/bench.txt"
