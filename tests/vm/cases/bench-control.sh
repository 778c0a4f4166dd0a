# bench-control: ociunit list (100 installed units) and status against systemctl --user list-units and status, interleaved; strace -f -c, strace -f -yy and busctl monitor of list, status and install --now (this build, the baseline's when staged)
# suites: trixie
# variants: full
# timeout: 2400
need_ociunit

# A measurement, not a timed test: the checks are that every command succeeds and sees the
# units; the times, ratios and syscall counts are notes, bench.txt and files in the output.
n=${OVM_BENCH_RUNS:-20}
count=100
bundles=$OVM_WORK/bundles
# ovm-bc-1..5 run (sleep), ovm-bc-6 has failed (/bin/false), the others are installed and
# not loaded: list sees three states. ovm-bc-new is the one the traced installs install.
running=(ovm-bc-1.service ovm-bc-2.service ovm-bc-3.service ovm-bc-4.service ovm-bc-5.service)
note_unit ovm-bc-1.service ovm-bc-6.service ovm-bc-new.service

cleanup() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  as_dev bash -c '
    systemctl --user stop "ovm-bc-*.service"
    rm -f "$HOME"/.config/systemd/user/ovm-bc-*.service
    systemctl --user daemon-reload
    systemctl --user reset-failed "ovm-bc-*.service"' >/dev/null 2>&1
}
trap cleanup EXIT

# --- 100 units (host mode: no root, so no warning that it is dropped): compiled as dev in one process (an exec costs 50-100 ms under TCG; one
# `ociunit install` each would also reload the manager 100 times), then one daemon-reload.
cat >"$OVM_WORK/make-units.sh" <<'SCRIPT'
#!/bin/bash
bundles=$1 units=$2 count=$3
mkdir -p "$units"
for name in $(seq -f 'ovm-bc-%g' 1 "$count") ovm-bc-new; do
  mkdir -p "$bundles/$name"
  args='"/bin/sleep", "infinity"'
  [ "$name" != ovm-bc-6 ] || args='"/bin/false"'
  i=${name#ovm-bc-}
  [ "$i" != new ] || i=0
  cat >"$bundles/$name/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": [$args], "env": ["PATH=/usr/bin:/bin"]},
  "linux": {"resources": {"memory": {"limit": $(( (64 + i) * 1048576 ))}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}}
}
EOF
  [ "$name" != ovm-bc-new ] || continue
  ociunit compile "$bundles/$name" --user -o "$units/$name.service" || echo "compile $name: exit $?" >&2
done
SCRIPT
chmod +x "$OVM_WORK/make-units.sh"
t0=$EPOCHREALTIME
as_dev "$OVM_WORK/make-units.sh" "$bundles" "$DEV_UNITS" "$count" 2>"$OVM_OUT/make-units.err"
# Warnings on stderr are not failures; the script's own "compile NAME: exit N" lines are.
expect_eq "compile $count units" "" "$(grep '^compile ' "$OVM_OUT/make-units.err" | head -c 600)"
expect_rc "daemon-reload" 0 usys daemon-reload
note "$count units compiled and loaded in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
cp "$DEV_UNITS/ovm-bc-1.service" "$OVM_OUT/"
expect_rc "start ovm-bc-1..5" 0 usys start "${running[@]}"
usys start --no-block ovm-bc-6.service >/dev/null 2>&1
for ((i = 0; i < 60; i++)); do
  [ "$(usys is-failed ovm-bc-6.service 2>/dev/null)" != failed ] || break
  sleep 0.5
done
expect_eq "ovm-bc-6 failed" failed "$(usys is-failed ovm-bc-6.service 2>/dev/null)"

# What each command shows (outside the timed rounds): the rows of the 100 units.
rows() { grep -c 'ovm-bc-[0-9]*\.service' <<<"$1"; }
out=$(as_dev ociunit list 2>&1) || _bad "ociunit list: exit $?"
printf '%s\n' "$out" >"$OVM_OUT/list.txt"
expect_eq "ociunit list: rows" "$count" "$(rows "$out")"
expect_match "ociunit list: ovm-bc-1 runs" 'ovm-bc-1\.service +active/running' "$out"
expect_match "ociunit list: ovm-bc-6 failed" 'ovm-bc-6\.service +failed/' "$out"
expect_match "ociunit list: ovm-bc-100 inactive" 'ovm-bc-100\.service +inactive/dead' "$out"
if [ -n "$OVM_BASELINE" ]; then
  out=$(as_dev "$OVM_BASELINE" list 2>&1) || _bad "baseline list: exit $?"
  printf '%s\n' "$out" >"$OVM_OUT/baseline-list.txt"
  expect_eq "baseline list: rows" "$count" "$(rows "$out")"
fi
names=$(seq -f 'ovm-bc-%g.service' 1 "$count" | tr '\n' ' ')
out=$(as_dev systemctl --user list-units --all --no-pager 'ovm-bc-*' 2>&1)
printf '%s\n' "$out" >"$OVM_OUT/systemctl-list-units-pattern.txt"
pattern_rows=$(rows "$out")
# shellcheck disable=SC2086 # the names are words
out=$(as_dev systemctl --user list-units --all --no-pager $names 2>&1)
printf '%s\n' "$out" >"$OVM_OUT/systemctl-list-units-names.txt"
note "rows: ociunit list $count (it asks for all $count by name); systemctl --user list-units --all 'ovm-bc-*' $pattern_rows (the loaded ones only); with the $count names $(rows "$out")"
out=$(as_dev ociunit status ovm-bc-1 2>&1) || _bad "ociunit status ovm-bc-1: exit $?"
printf '%s\n' "$out" >"$OVM_OUT/status.txt"
expect_match "ociunit status ovm-bc-1: running" '^ovm-bc-1\.service: loaded \(active/running\)' "$out"
if [ -n "$OVM_BASELINE" ]; then
  as_dev "$OVM_BASELINE" status ovm-bc-1 >"$OVM_OUT/baseline-status.txt" 2>&1 ||
    _bad "baseline status ovm-bc-1: exit $?"
fi
expect_rc "systemctl --user status ovm-bc-1" 0 as_dev systemctl --user status ovm-bc-1 --no-pager >/dev/null

# --- the timed rounds
{
  printf 'baseline=%q names=(%s)\n' "$OVM_BASELINE" "$names"
  cat <<'DEFS'
parts=(list sd_list sd_list_names status sd_status)
[ -z "$baseline" ] || parts+=(baseline_list baseline_status)
list() { ociunit list >/dev/null 2>&1 || echo "ociunit list failed" >&2; }
sd_list() { systemctl --user list-units --all --no-pager 'ovm-bc-*' >/dev/null 2>&1 || echo "systemctl list-units (pattern) failed" >&2; }
sd_list_names() { systemctl --user list-units --all --no-pager "${names[@]}" >/dev/null 2>&1 || echo "systemctl list-units (names) failed" >&2; }
status() { ociunit status ovm-bc-1 >/dev/null 2>&1 || echo "ociunit status failed" >&2; }
sd_status() { systemctl --user status ovm-bc-1 --no-pager >/dev/null 2>&1 || echo "systemctl status failed" >&2; }
baseline_list() { "$baseline" list >/dev/null 2>&1 || echo "baseline list failed" >&2; }
baseline_status() { "$baseline" status ovm-bc-1 >/dev/null 2>&1 || echo "baseline status failed" >&2; }
DEFS
} >"$OVM_WORK/bench.defs"
bench_interleave "$OVM_WORK/bench.defs" "$n" >"$OVM_OUT/times" 2>"$OVM_OUT/bench.err"
expect_eq "no failed run" "" "$(sort -u "$OVM_OUT/bench.err" | head -5)"
read -r list sdlist sdnames status sdstatus blist bstatus < <(bench_medians "$OVM_OUT/times")
note "runs: $n each, interleaved; medians: ociunit list ${list} ms vs systemctl --user list-units --all 'ovm-bc-*' ${sdlist} ms ($(ratio "$list" "$sdlist")), vs the same with the $count names ${sdnames} ms ($(ratio "$list" "$sdnames")); ociunit status ${status} ms vs systemctl --user status ${sdstatus} ms ($(ratio "$status" "$sdstatus"))"
line="bench-control units=$count runs=$n: list=${list}ms systemctl-list-units=${sdlist}ms ratio=$(ratio "$list" "$sdlist") systemctl-list-units-names=${sdnames}ms ratio=$(ratio "$list" "$sdnames") status=${status}ms systemctl-status=${sdstatus}ms ratio=$(ratio "$status" "$sdstatus")"
if [ -n "$OVM_BASELINE" ]; then
  note "baseline build: list ${blist} ms ($(ratio "$blist" "$sdlist") of systemctl's; this build's is $(ratio "$list" "$blist") of it), status ${bstatus} ms ($(ratio "$bstatus" "$sdstatus"); this build's is $(ratio "$status" "$bstatus") of it)"
  line+=" baseline-list=${blist}ms ratio=$(ratio "$blist" "$sdlist") after/before=$(ratio "$list" "$blist") baseline-status=${bstatus}ms ratio=$(ratio "$bstatus" "$sdstatus") after/before=$(ratio "$status" "$bstatus")"
fi
echo "$line" >>"$OVM_OUT/bench.txt"

# --- traces: tests/vm/run stages the host's strace for this case (see trace-run.sh)
st=$OVM_FILES/strace
if [ ! -x "$st/strace" ]; then
  note "no strace staged: no traces"
  exit 0
fi
mkdir -p /usr/local/lib/ovm-strace
cp -r "$st/." /usr/local/lib/ovm-strace/
strace=(/lib64/ld-linux-x86-64.so.2 --library-path /usr/local/lib/ovm-strace /usr/local/lib/ovm-strace/strace)
if ! "${strace[@]}" -V >/dev/null 2>&1; then
  note "the staged strace does not run here: no traces"
  exit 0
fi

# calls FILE SYSCALL...: the calls strace -c counted of these syscalls (total: all of them)
calls() {
  local f=$1
  shift
  awk -v want=" $* " 'index(want, " " $NF " ") && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' "$f"
}
# socket_calls FILE: the calls on a unix stream socket (the bus) in a strace -yy trace, by
# syscall, e.g. "3 recvmsg 2 sendmsg"
socket_calls() {
  grep -oE '^([0-9]+ +)?[0-9:.]+ [a-z0-9_]+\([0-9]+<UNIX(-STREAM)?:' "$1" |
    sed -E 's/^([0-9]+ +)?[0-9:.]+ //; s/\(.*//' | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? " " : ""), $1, $2 }'
}
# messages FILE: the messages busctl monitor saw, by type
messages() {
  grep -oE 'Type=(method_call|method_return|error|signal)' "$1" | sort | uniq -c |
    awk '{ sub(/Type=/, "", $2); printf "%s%s %s", (NR > 1 ? " " : ""), $1, $2 }'
}
# trace KEY CMD...: run CMD as dev under strace -f -c, then under strace -f -yy -tt -T, then
# beside busctl --user monitor; AFTER (a function name), when set, runs after each.
trace() {
  local k=$1 mon
  shift
  as_dev "${strace[@]}" -f -c -o "$OVM_OUT/$k.count" "$@" >/dev/null 2>"$OVM_OUT/$k.err" ||
    _bad "$k under strace -c: exit $? ($(head -c 300 "$OVM_OUT/$k.err"))"
  ${AFTER:-:}
  as_dev "${strace[@]}" -f -yy -tt -T -s 80 -o "$OVM_OUT/$k.strace" "$@" >/dev/null 2>&1 ||
    _bad "$k under strace -yy: exit $?"
  ${AFTER:-:}
  # busctl monitor under timeout, which passes our TERM on (killing as_dev's subshell would
  # leave busctl running); its pid comes from the shell that execs it.
  rm -f "$OVM_WORK/monitor.pid"
  # shellcheck disable=SC2016 # expanded by sh
  as_dev sh -c 'echo $$ >"$1"; exec timeout 120 busctl --user monitor' sh "$OVM_WORK/monitor.pid" \
    >"$OVM_OUT/$k.bus" 2>&1 &
  mon=$!
  sleep 3
  as_dev "$@" >/dev/null 2>&1 || _bad "$k beside busctl monitor: exit $?"
  sleep 1
  kill -TERM "$(cat "$OVM_WORK/monitor.pid")" 2>/dev/null
  wait "$mon"
  ${AFTER:-:}
  expect_match "$k: strace counted its syscalls" 'total$' "$(tail -n1 "$OVM_OUT/$k.count")"
  local f=$OVM_OUT/$k.count
  note "$k: $(calls "$f" clone clone3) clone/clone3, $(calls "$f" total) syscalls, $(calls "$f" futex) futex, $(calls "$f" sendmsg sendto write writev) sendmsg/sendto/write/writev and $(calls "$f" recvmsg recvfrom read readv) recvmsg/recvfrom/read/readv (all fds); on the bus sockets: $(socket_calls "$OVM_OUT/$k.strace"); bus messages seen by busctl monitor: $(messages "$OVM_OUT/$k.bus")"
  printf '%s clone=%s syscalls=%s futex=%s socket="%s" bus="%s"\n' "$k" \
    "$(calls "$f" clone clone3)" "$(calls "$f" total)" "$(calls "$f" futex)" \
    "$(socket_calls "$OVM_OUT/$k.strace")" "$(messages "$OVM_OUT/$k.bus")" >>"$OVM_OUT/trace.txt"
}

# list: warm the page cache first
as_dev ociunit list >/dev/null 2>&1
trace ours-list ociunit list
if [ -n "$OVM_BASELINE" ]; then
  as_dev "$OVM_BASELINE" list >/dev/null 2>&1
  trace base-list "$OVM_BASELINE" list
fi
trace sd-list-units systemctl --user list-units --all --no-pager 'ovm-bc-*'

# status of the running unit
as_dev ociunit status ovm-bc-1 >/dev/null 2>&1
trace ours-status ociunit status ovm-bc-1
if [ -n "$OVM_BASELINE" ]; then
  as_dev "$OVM_BASELINE" status ovm-bc-1 >/dev/null 2>&1
  trace base-status "$OVM_BASELINE" status ovm-bc-1
fi
trace sd-status systemctl --user status ovm-bc-1 --no-pager

# install --now of one more bundle; this build's uninstall between the runs.
uninstall_new() { as_dev ociunit uninstall ovm-bc-new >/dev/null 2>&1 || _bad "uninstall ovm-bc-new: exit $?"; }
expect_rc "install --now (warm-up)" 0 as_dev ociunit install "$bundles/ovm-bc-new" --now
uninstall_new
AFTER=uninstall_new trace ours-install ociunit install "$bundles/ovm-bc-new" --now
if [ -n "$OVM_BASELINE" ]; then
  expect_rc "baseline install --now (warm-up)" 0 as_dev "$OVM_BASELINE" install "$bundles/ovm-bc-new" --now
  uninstall_new
  AFTER=uninstall_new trace base-install "$OVM_BASELINE" install "$bundles/ovm-bc-new" --now
fi
expect_eq "ovm-bc-new uninstalled" "" "$(ls "$DEV_UNITS/ovm-bc-new.service" 2>/dev/null)"
