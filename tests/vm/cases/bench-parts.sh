# bench-parts: where the start path's time goes, part by part, interleaved (the order alternating): the start-up of ociunit, ociunit-launch and systemd-run alone; systemd-run --wait of /bin/true, with DelegateSubgroup=, then under the launcher one step of its leaf work at a time up to ociunit's own launcher command line (and that line with the leaf made by the launcher instead of systemd); ociunit run against them; the runtime's --version that container mode skips
# suites: trixie
# variants: full
# timeout: 900
need_ociunit

n=${OVM_BENCH_RUNS:-20}
b=$OVM_WORK/ovm-parts
bundle "$b" '{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/true"], "env": ["PATH=/usr/bin:/bin"]},
  "linux": {"resources": {"memory": {"limit": 1000000000}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}}
}'
props="-p Delegate=yes -p MemoryMax=1000000000 -p TasksMax=100 -p CPUWeight=100"
# What `ociunit run --service` sends for this bundle (checked below against its --dry-run).
extra="-p DelegateSubgroup=payload"
launcher="/usr/local/bin/ociunit-launch --leaf payload --controllers memory,cpu,pids --write memory.max=1000000000 --write cpu.weight=100 --write pids.max=100 --env PATH=/usr/bin:/bin --clear-env -- /bin/true"
dry=$(as_dev ociunit run --service --wait --dry-run "$b" 2>&1)
expect_match "the launcher line is ociunit's own" '"--leaf","payload","--controllers","memory,cpu,pids"' "$dry"
# One line per part: NAME|COMMAND (word-split, no quoting needed).
cat >"$OVM_OUT/parts" <<PARTS
true|/bin/true
ociunit --version|ociunit --version
ociunit-launch --version|ociunit-launch --version
systemd-run --version|systemd-run --version
crun --version|crun --version
systemd-run --wait /bin/true|systemd-run --user --wait -q $props -p Type=exec /bin/true
systemd-run --wait +subgroup /bin/true|systemd-run --user --wait -q $props -p Type=exec $extra /bin/true
systemd-run --wait +subgroup launcher leaf|systemd-run --user --wait -q $props -p Type=exec $extra /usr/local/bin/ociunit-launch --leaf payload -- /bin/true
systemd-run --wait +subgroup launcher leaf+pids|systemd-run --user --wait -q $props -p Type=exec $extra /usr/local/bin/ociunit-launch --leaf payload --controllers pids -- /bin/true
systemd-run --wait +subgroup launcher leaf+3 controllers|systemd-run --user --wait -q $props -p Type=exec $extra /usr/local/bin/ociunit-launch --leaf payload --controllers memory,cpu,pids -- /bin/true
systemd-run --wait launcher line, leaf by the launcher|systemd-run --user --wait -q $props -p Type=exec $launcher
systemd-run --wait +subgroup launcher line|systemd-run --user --wait -q $props -p Type=exec $extra $launcher
ociunit run --service --wait|ociunit run --service --wait -q $b
systemd-run --scope /bin/true|systemd-run --user --scope -q $props /bin/true
systemd-run --scope ociunit-launch|systemd-run --user --scope -q $props $launcher
ociunit run --scope|ociunit run --scope -q $b
PARTS
# Each line a function of bench_interleave's: the command word-split, its failure named.
k=0
{
  echo 'parts=()'
  while IFS='|' read -r name command; do
    k=$((k + 1))
    printf 'parts+=(p%d)\np%d() { %s >/dev/null 2>&1 || echo %q >&2; }\n' "$k" "$k" "$command" "failed: $name"
  done <"$OVM_OUT/parts"
} >"$OVM_WORK/parts.defs"
bench_interleave "$OVM_WORK/parts.defs" "$n" >"$OVM_OUT/times" 2>"$OVM_OUT/parts.err"
expect_eq "no failed run" "" "$(sort "$OVM_OUT/parts.err" | uniq -c | head -5)"
read -ra medians < <(bench_medians "$OVM_OUT/times")
i=0
while IFS='|' read -r name _; do
  printf '%8s ms  %s\n' "${medians[i]}" "$name"
  i=$((i + 1))
done <"$OVM_OUT/parts" >"$OVM_OUT/medians.txt"
while read -r line; do note "$line"; done <"$OVM_OUT/medians.txt"
note "runs: $n of each part, interleaved, the order alternating; medians"
