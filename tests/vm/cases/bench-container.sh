# bench-container: the demo container, interleaved (40 runs each, the order alternating): ociunit run --scope against crun --systemd-cgroup run, and ociunit run --service --wait against systemd-run --user --wait of the same crun command line
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

# The parts, in the order bench_medians reports them.
{
  printf 'dir=%q baseline=%q\n' "$dir" "$OVM_BASELINE"
  cat <<'DEFS'
parts=(run_scope crun_scope run_service sd_service)
[ -z "$baseline" ] || parts+=(baseline_scope baseline_service)
demo() { [ "$2" = 999997440 ] || echo "$1: $2" >&2; }
run_scope() { demo "ociunit run --scope" "$(ociunit run --scope -q --runtime crun "$dir" 2>&1)"; }
crun_scope() {
  demo "crun --systemd-cgroup run" \
    "$(crun --systemd-cgroup --root "$XDG_RUNTIME_DIR/bench-crun" run --bundle "$dir" "b$1" 2>&1)"
}
run_service() {
  ociunit run --service --wait -q --runtime crun "$dir" >/dev/null 2>&1 || echo "ociunit run --service failed" >&2
}
sd_service() {
  systemd-run --user --wait -q -p Delegate=yes -p MemoryMax=1000000000 -p Type=exec \
    crun --cgroup-manager=disabled --root "$XDG_RUNTIME_DIR/bench-crun" run --bundle "$dir" "s$1" >/dev/null 2>&1 ||
    echo "systemd-run --wait crun failed" >&2
}
baseline_scope() { demo "baseline run --scope" "$("$baseline" run --scope -q --runtime crun "$dir" 2>&1)"; }
baseline_service() {
  "$baseline" run --service --wait -q --runtime crun "$dir" >/dev/null 2>&1 || echo "baseline run --service failed" >&2
}
DEFS
} >"$OVM_WORK/bench.defs"
for hog in ${OVM_BENCH_HOG:-0}; do
  bench_hog_start "$hog"
  bench_interleave "$OVM_WORK/bench.defs" "$n" >"$OVM_OUT/times-$hog" 2>"$OVM_OUT/bench-$hog.err"
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
