# soak: $OVM_SOAK (default 100) `ociunit run --service --wait` and as many `run --scope` of a trivial bundle in a row: none fails; no unit, cgroup, runtime state or manager fd is left (fds: at most as many as before); the user manager's RSS grows by at most 8 MiB; the median run time of the last tenth is at most 2x that of the first
# suites: bookworm trixie
# variants: full
# timeout: 600
need_ociunit
n=${OVM_SOAK:-100}
MANAGER=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service
manager=$(systemctl show -P MainPID user@1000.service)
b=$OVM_WORK/ovm-soak
bundle "$b" '{"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/",
  "args": ["/bin/true"], "env": ["PATH=/usr/bin:/bin"]},
  "linux": {"resources": {"memory": {"limit": 100000000}, "pids": {"limit": 50}}}}'

# What a run could leave behind, counted with bash builtins: the manager's
# fds, its RSS in KiB, ovm-soak cgroups, entries in dev's runtime and state
# directories.
shopt -s nullglob
counts() {
  local fds=(/proc/"$manager"/fd/*) k v _ rss=?
  while read -r k v _; do [ "$k" = VmRSS: ] && rss=$v; done <"/proc/$manager/status"
  local cg=("$MANAGER"/ovm-soak-* "$MANAGER"/*.slice/ovm-soak-*)
  local run=(/run/user/1000/* /run/user/1000/systemd/transient/*)
  local state=(/home/dev/.local/state/ociunit/*)
  echo "fds=${#fds[@]} rss_kib=$rss cgroups=${#cg[@]} runtime=${#run[@]} state=${#state[@]}"
}
# soak MODE: n runs in a row as dev, one exec each; their times (us) in $OVM_OUT/MODE.us
soak() {
  as_dev bash -c '
    n=$1 b=$2 out=$3 mode=$4 fails=0 times=()
    case $mode in service) args=(--service --wait) ;; scope) args=(--scope) ;; esac
    for ((i = 0; i < n; i++)); do
      t0=${EPOCHREALTIME/./}
      ociunit run "${args[@]}" -q "$b" >/dev/null 2>>"$out.err" </dev/null || fails=$((fails + 1))
      t1=${EPOCHREALTIME/./}
      times+=($((t1 - t0)))
    done
    printf "%s\n" "${times[@]}" >"$out.us"
    echo "$fails"
  ' _ "$n" "$b" "$OVM_OUT/$1" "$1"
}
# tenths FILE: the medians (ms) of the first and the last tenth of the times
tenths() {
  local k=$(( n / 10 > 0 ? n / 10 : 1 ))
  median() { sort -n | awk '{v[NR] = $1} END {printf "%d", v[int((NR + 1) / 2)] / 1000}'; }
  echo "$(head -n "$k" "$1" | median) $(tail -n "$k" "$1" | median)"
}

# A few runs first, so that the manager's one-time allocations are not counted.
as_dev ociunit run --service --wait -q "$b" >/dev/null 2>&1
as_dev ociunit run --scope -q "$b" >/dev/null 2>&1 </dev/null
before=$(counts)
note "before: $before"
for mode in service scope; do
  fails=$(soak "$mode")
  expect_eq "$n run --$mode: failures" 0 "$fails"
  [ -s "$OVM_OUT/$mode.err" ] && sed -n '1,5s/^/    | /p' "$OVM_OUT/$mode.err"
  read -r first last <<<"$(tenths "$OVM_OUT/$mode.us")"
  note "run --$mode: median $first ms over the first tenth, $last ms over the last"
  check "run --$mode: the last tenth's median ($last ms) is at most 2x the first's ($first ms)" \
    test "$last" -le $((2 * first))
done
usys reset-failed 2>/dev/null
after=$(counts)
note "after $n + $n runs: $after"
expect_empty "no unit left" "$(usys list-units --all --plain --no-legend 'ovm-soak-*' 2>/dev/null)"
declare -A B A
for kv in $before; do B[${kv%%=*}]=${kv#*=}; done
for kv in $after; do A[${kv%%=*}]=${kv#*=}; done
check "user manager fds: ${A[fds]} after, at most the ${B[fds]} before" test "${A[fds]}" -le "${B[fds]}"
for k in cgroups runtime state; do
  expect_eq "$k after = before" "${B[$k]}" "${A[$k]}"
done
growth=$(( A[rss_kib] - B[rss_kib] ))
note "user manager RSS: ${B[rss_kib]} KiB -> ${A[rss_kib]} KiB ($growth KiB)"
check "user manager RSS growth ($growth KiB) at most 8 MiB" test "$growth" -le 8192
