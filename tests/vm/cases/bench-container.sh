# bench-container: the demo container, interleaved: ociunit run --scope against crun --systemd-cgroup run, and ociunit run --service --wait against systemd-run --user --wait of the same crun command line
# suites: trixie
# variants: full
# timeout: 900
need_ociunit

n=${OVM_BENCH_RUNS:-20}
dir=$OVM_WORK/ovm-bench-ctr
as_dev mkdir -p "$dir/rootfs/bin"
as_dev cp /bin/busybox "$dir/rootfs/bin/busybox"
as_dev ln -sf busybox "$dir/rootfs/bin/cat"
(cd "$dir" && as_dev crun spec --rootless) || case_fail "crun spec --rootless failed"
as_dev env perl -0pi -e '
  s#"args": \[\s*"sh"\s*\]#"args": ["cat", "/sys/fs/cgroup/memory.max"]#;
  s#"terminal": true#"terminal": false#;
  s#"resources": \{#"resources": {"memory": {"limit": 1000000000},#;' "$dir/config.json"

# One script as dev, so runuser's cost is not counted; each line: four timestamps (ns).
cat >"$OVM_WORK/bench.sh" <<'SCRIPT'
#!/bin/bash
n=$1 dir=$2
crun_cmd=(crun --root "$XDG_RUNTIME_DIR/bench-crun" run --bundle "$dir")
for ((i = 0; i < n; i++)); do
  t0=$EPOCHREALTIME
  out=$(ociunit run --scope -q --runtime crun "$dir" 2>&1)
  [ "$out" = 999997440 ] || echo "ociunit run --scope: $out" >&2
  t1=$EPOCHREALTIME
  out=$(crun --systemd-cgroup --root "$XDG_RUNTIME_DIR/bench-crun" run --bundle "$dir" "b$i" 2>&1)
  [ "$out" = 999997440 ] || echo "crun --systemd-cgroup run: $out" >&2
  t2=$EPOCHREALTIME
  ociunit run --service --wait -q --runtime crun "$dir" >/dev/null 2>&1 || echo "ociunit run --service failed" >&2
  t3=$EPOCHREALTIME
  systemd-run --user --wait -q -p Delegate=yes -p MemoryMax=1000000000 -p Type=exec \
    crun --cgroup-manager=disabled --root "$XDG_RUNTIME_DIR/bench-crun" run --bundle "$dir" "s$i" >/dev/null 2>&1 ||
    echo "systemd-run --wait crun failed" >&2
  t4=$EPOCHREALTIME
  echo "${t0/./} ${t1/./} ${t2/./} ${t3/./} ${t4/./}"
done
SCRIPT
chmod +x "$OVM_WORK/bench.sh"
as_dev "$OVM_WORK/bench.sh" "$n" "$dir" >"$OVM_OUT/times" 2>"$OVM_OUT/bench.err"
expect_eq "no failed run" "" "$(sort -u "$OVM_OUT/bench.err" | head -5)"
read -r scope crun service sdrun r1 r2 < <(awk '{ a[NR] = $2 - $1; b[NR] = $3 - $2; c[NR] = $4 - $3; d[NR] = $5 - $4 }
  function median(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
    return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
  END { ma = median(a, NR); mb = median(b, NR); mc = median(c, NR); md = median(d, NR)
        printf "%.1f %.1f %.1f %.1f %.3f %.3f\n", ma / 1000, mb / 1000, mc / 1000, md / 1000, ma / mb, mc / md }' "$OVM_OUT/times")
note "runs: $n each, interleaved; medians: ociunit run --scope ${scope} ms vs crun --systemd-cgroup run ${crun} ms (${r1}); ociunit run --service --wait ${service} ms vs systemd-run --user --wait crun ${sdrun} ms (${r2})"
echo "bench-container: scope=${scope}ms crun-systemd=${crun}ms ratio=${r1} service=${service}ms systemd-run=${sdrun}ms ratio=${r2}" >>"$OVM_OUT/bench.txt"
