# bench-run: ociunit run against systemd-run with the same properties, interleaved (the order alternating): --scope against systemd-run --user --scope, --service --wait against systemd-run --user --wait
# suites: trixie
# variants: full
# timeout: 1200
need_ociunit

n=${OVM_BENCH_RUNS:-40}
bundle "$OVM_WORK/ovm-bench" '{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/true"], "env": ["PATH=/usr/bin:/bin"]},
  "linux": {"resources": {"memory": {"limit": 1000000000}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}}
}'
# What `ociunit run --dry-run` sends for this bundle, besides the launcher's command line.
props=(-p Delegate=yes -p MemoryMax=1000000000 -p TasksMax=100 -p CPUWeight=100)
# The parts, in the order bench_medians reports them; the arguments are fixed here.
{
  printf 'bundle=%q baseline=%q props=(%s)\n' "$OVM_WORK/ovm-bench" "$OVM_BASELINE" "$(printf '%q ' "${props[@]}")"
  cat <<'DEFS'
parts=(run_scope sd_scope run_service sd_service)
[ -z "$baseline" ] || parts+=(baseline_scope baseline_service)
run_scope() { ociunit run --scope -q "$bundle" >/dev/null 2>&1 || echo "ociunit run --scope failed" >&2; }
sd_scope() { systemd-run --user --scope -q "${props[@]}" /bin/true >/dev/null 2>&1 || echo "systemd-run --scope failed" >&2; }
run_service() { ociunit run --service --wait -q "$bundle" >/dev/null 2>&1 || echo "ociunit run --service failed" >&2; }
sd_service() { systemd-run --user --wait -q "${props[@]}" -p Type=exec /bin/true >/dev/null 2>&1 || echo "systemd-run --wait failed" >&2; }
baseline_scope() { "$baseline" run --scope -q "$bundle" >/dev/null 2>&1 || echo "baseline run --scope failed" >&2; }
baseline_service() { "$baseline" run --service --wait -q "$bundle" >/dev/null 2>&1 || echo "baseline run --service failed" >&2; }
DEFS
} >"$OVM_WORK/bench.defs"
for hog in ${OVM_BENCH_HOG:-0}; do
  bench_hog_start "$hog"
  bench_interleave "$OVM_WORK/bench.defs" "$n" >"$OVM_OUT/times-$hog" 2>"$OVM_OUT/bench-$hog.err"
  bench_hog_stop
  expect_eq "no failed run (hog $hog)" "" "$(sort -u "$OVM_OUT/bench-$hog.err" | head -5)"
  read -r scope sdscope service sdservice bscope bservice < <(bench_medians "$OVM_OUT/times-$hog")
  r1=$(ratio "$scope" "$sdscope") r2=$(ratio "$service" "$sdservice")
  note "runs: $n each, interleaved$([ "$hog" = 0 ] || echo ", with a CPU hog ($hog)"); medians: ociunit run --scope ${scope} ms vs systemd-run --user --scope ${sdscope} ms (${r1}); ociunit run --service --wait ${service} ms vs systemd-run --user --wait ${sdservice} ms (${r2})"
  line="bench-run hog=$hog: scope=${scope}ms systemd-run-scope=${sdscope}ms ratio=${r1} service=${service}ms systemd-run-wait=${sdservice}ms ratio=${r2}"
  if [ -n "$OVM_BASELINE" ]; then
    note "baseline build: run --scope ${bscope} ms ($(ratio "$bscope" "$sdscope")), run --service --wait ${bservice} ms ($(ratio "$bservice" "$sdservice"))"
    line+=" baseline-scope=${bscope}ms ratio=$(ratio "$bscope" "$sdscope") baseline-service=${bservice}ms ratio=$(ratio "$bservice" "$sdservice")"
  fi
  echo "$line" >>"$OVM_OUT/bench.txt"
done
