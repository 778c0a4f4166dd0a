# trace-run: where the start path's time goes: strace and busctl monitor of ociunit run against systemd-run with the same properties (writes traces to the case's output)
# suites: trixie
# variants: full
# timeout: 600
need_ociunit

# tests/vm/run stages the host's strace and its libraries for this case only; the guest's
# loader runs it, so no LD_LIBRARY_PATH reaches the traced programs.
st=$OVM_FILES/strace
[ -x "$st/strace" ] || case_skip "no strace staged (tests/vm/run copies the host's when it is installed)"
# (bench-control may have copied it already in this boot)
mkdir -p /usr/local/lib/ovm-strace
cp -r "$st/." /usr/local/lib/ovm-strace/
strace=(/lib64/ld-linux-x86-64.so.2 --library-path /usr/local/lib/ovm-strace /usr/local/lib/ovm-strace/strace)
"${strace[@]}" -V | head -n1 || case_skip "the staged strace does not run here"

bundle "$OVM_WORK/ovm-trace" '{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/true"], "env": ["PATH=/usr/bin:/bin"]},
  "linux": {"resources": {"memory": {"limit": 1000000000}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}}
}'
b=$OVM_WORK/ovm-trace
props=(-p Delegate=yes -p MemoryMax=1000000000 -p TasksMax=100 -p CPUWeight=100)
declare -A cmd=(
  [ours-scope]="ociunit run --scope -q $b"
  [sdrun-scope]="systemd-run --user --scope -q ${props[*]} /bin/true"
  [ours-service]="ociunit run --service --wait -q $b"
  [sdrun-service]="systemd-run --user --wait -q ${props[*]} -p Type=exec /bin/true"
)
if [ -n "$OVM_BASELINE" ]; then
  cmd[base-scope]="$OVM_BASELINE run --scope -q $b"
  cmd[base-service]="$OVM_BASELINE run --service --wait -q $b"
fi
as_dev ociunit run --scope --dry-run "$b" >"$OVM_OUT/ours-scope.call" 2>&1
as_dev ociunit run --service --wait --dry-run "$b" >"$OVM_OUT/ours-service.call" 2>&1
for k in "${!cmd[@]}"; do
  # warm the page cache and the manager
  as_dev ${cmd[$k]} >/dev/null 2>&1
  as_dev "${strace[@]}" -f -c -o "$OVM_OUT/$k.count" ${cmd[$k]} >/dev/null 2>&1
  as_dev "${strace[@]}" -f -tt -T -s 120 -o "$OVM_OUT/$k.strace" ${cmd[$k]} >/dev/null 2>&1
  # busctl monitor ends by itself: killing as_dev's subshell would leave it running.
  as_dev timeout 8 busctl --user monitor >"$OVM_OUT/$k.bus" 2>&1 &
  mon=$!
  sleep 3
  as_dev ${cmd[$k]} >/dev/null 2>&1
  wait "$mon"
  expect_match "$k: strace counted its syscalls" 'total$' "$(tail -n1 "$OVM_OUT/$k.count")"
  note "$k: $(grep -c '^‣\|^> \|Type=' "$OVM_OUT/$k.bus") bus lines; $(tail -n1 "$OVM_OUT/$k.count")"
done
ldd /usr/local/bin/ociunit >"$OVM_OUT/ldd-ociunit" 2>&1
ldd "$(command -v systemd-run)" >"$OVM_OUT/ldd-systemd-run" 2>&1
