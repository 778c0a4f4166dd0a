# bench-container: the demo container, interleaved (40 runs each): ociunit run --scope against crun --systemd-cgroup run, and ociunit run --service --wait against systemd-run --user --wait of the same crun command line
# suites: trixie
# variants: full
# timeout: 1500
need_ociunit

n=${OVM_BENCH_RUNS:-40}
dir=$OVM_WORK/ovm-bench-ctr
as_dev mkdir -p "$dir/rootfs/bin"
as_dev cp /bin/busybox "$dir/rootfs/bin/busybox"
as_dev ln -sf busybox "$dir/rootfs/bin/cat"
(cd "$dir" && as_dev crun spec --rootless) || case_fail "crun spec --rootless failed"
as_dev env perl -0pi -e '
  s#"args": \[\s*"sh"\s*\]#"args": ["cat", "/sys/fs/cgroup/memory.max"]#;
  s#"terminal": true#"terminal": false#;
  s#"resources": \{#"resources": {"memory": {"limit": 1000000000},#;' "$dir/config.json"

# One script as dev, so runuser's cost is not counted; each line: five timestamps (µs).
cat >"$OVM_WORK/bench.sh" <<'SCRIPT'
#!/bin/bash
n=$1 dir=$2 baseline=$3
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
  if [ -n "$baseline" ]; then
    out=$("$baseline" run --scope -q --runtime crun "$dir" 2>&1)
    [ "$out" = 999997440 ] || echo "baseline run --scope: $out" >&2
    t5=$EPOCHREALTIME
    "$baseline" run --service --wait -q --runtime crun "$dir" >/dev/null 2>&1 || echo "baseline run --service failed" >&2
    t6=$EPOCHREALTIME
    echo "${t0/./} ${t1/./} ${t2/./} ${t3/./} ${t4/./} ${t5/./} ${t6/./}"
  else
    echo "${t0/./} ${t1/./} ${t2/./} ${t3/./} ${t4/./}"
  fi
done
SCRIPT
chmod +x "$OVM_WORK/bench.sh"
for hog in ${OVM_BENCH_HOG:-0}; do
  bench_hog_start "$hog"
  as_dev "$OVM_WORK/bench.sh" "$n" "$dir" "$OVM_BASELINE" >"$OVM_OUT/times-$hog" 2>"$OVM_OUT/bench-$hog.err"
  bench_hog_stop
  expect_eq "no failed run (hog $hog)" "" "$(sort -u "$OVM_OUT/bench-$hog.err" | head -5)"
  read -r scope crun service sdrun bscope bservice < <(bench_medians "$OVM_OUT/times-$hog")
  r1=$(ratio "$scope" "$crun") r2=$(ratio "$service" "$sdrun")
  note "runs: $n each, interleaved$([ "$hog" = 0 ] || echo ", with a CPU hog ($hog)"); medians: ociunit run --scope ${scope} ms vs crun --systemd-cgroup run ${crun} ms (${r1}); ociunit run --service --wait ${service} ms vs systemd-run --user --wait crun ${sdrun} ms (${r2})"
  line="bench-container hog=$hog: scope=${scope}ms crun-systemd=${crun}ms ratio=${r1} service=${service}ms systemd-run=${sdrun}ms ratio=${r2}"
  if [ -n "$OVM_BASELINE" ]; then
    note "baseline build: run --scope ${bscope} ms ($(ratio "$bscope" "$crun")), run --service --wait ${bservice} ms ($(ratio "$bservice" "$sdrun"))"
    line+=" baseline-scope=${bscope}ms ratio=$(ratio "$bscope" "$crun") baseline-service=${bservice}ms ratio=$(ratio "$bservice" "$sdrun")"
  fi
  echo "$line" >>"$OVM_OUT/bench.txt"
done
