# faults-run: daemon-reexec and daemon-reload while `run --service --wait` waits; the payload SIGKILLed and OOM-killed (run --wait and status say code=killed/signal=9, 137; the journal names the OOM killer); the launcher facing a vanished leaf, an EBUSY subtree_control and a read-only cgroup file fails closed (125, one line) unless --best-effort
# suites: bookworm trixie
# variants: full
# timeout: 300
need_ociunit
command -v strace >/dev/null || case_fail "strace is not in the image (tests/vm/build-image)"
L=/usr/local/bin/ociunit-launch
MANAGER=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service
MEMORY='{"memory": {"limit": 100000000}}'

# sh_bundle DIR SHELL-CODE [RESOURCES]: a bundle running /bin/sh -c SHELL-CODE
sh_bundle() {
  bundle "$1" "{\"ociVersion\": \"1.0.2\", \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\",
    \"args\": [\"/bin/sh\", \"-c\", \"$2\"], \"env\": [\"PATH=/usr/bin:/bin\"]},
    \"linux\": {\"resources\": ${3:-$MEMORY}}}"
}
# leftovers UNIT: the unit if the manager still has it, and its cgroup if it is still there
leftovers() {
  local d
  usys list-units --all --plain --no-legend "$1" 2>/dev/null
  for d in "$MANAGER/$1" "$MANAGER"/*.slice/"$1"; do [ ! -d "$d" ] || echo "cgroup $d"; done
}
killed=0

# 1. The manager re-executes or reloads while `run --wait` follows the unit:
#    the exit status still comes through, and nothing is left.
for op in daemon-reexec daemon-reload; do
  unit=ovm-fr-$op.service
  mark=$OVM_WORK/$op.started
  sh_bundle "$OVM_WORK/$op" "echo > $mark; sleep 3; exit 7"
  note_unit "$unit"
  as_dev ociunit run --service --wait --collect --unit "$unit" "$OVM_WORK/$op" \
    >"$OVM_OUT/$op.out" 2>"$OVM_OUT/$op.err" &
  job=$!
  wait_file "$mark" 30 || _bad "$op: the payload did not start"
  expect_rc "systemctl --user $op" 0 usys "$op"
  rc=0; wait "$job" || rc=$?
  expect_eq "$op while waiting: the payload's exit status" 7 "$rc"
  expect_match "$op: the summary" 'code=exited/status=7' "$(<"$OVM_OUT/$op.err")"
  expect_empty "$op: nothing left" "$(leftovers "$unit")"
  [ "$rc" = 7 ] && killed=$((killed + 1))
done

# 2. The payload SIGKILLed from outside, and OOM-killed at its own
#    memory.max: run --wait says so and exits 128+9.
unit=ovm-fr-kill.service
sh_bundle "$OVM_WORK/kill" "echo \$\$ > $OVM_WORK/kill.pid; exec sleep 600"
note_unit "$unit"
as_dev ociunit run --service --wait --collect --unit "$unit" "$OVM_WORK/kill" \
  >"$OVM_OUT/kill.out" 2>"$OVM_OUT/kill.err" &
job=$!
wait_file "$OVM_WORK/kill.pid" 30 && sleep 0.2 && kill -KILL "$(<"$OVM_WORK/kill.pid")"
rc=0; wait "$job" || rc=$?
expect_eq "SIGKILLed payload: exit status" 137 "$rc"
expect_match "SIGKILLed payload: the summary" 'result: signal.*code=killed/signal=9' "$(tr '\n' ' ' <"$OVM_OUT/kill.err")"
expect_empty "SIGKILLed payload: nothing left" "$(leftovers "$unit")"
[ "$rc" = 137 ] && killed=$((killed + 1))

# dd holds a 64 MiB buffer; memory.max is 16 MiB and there is no swap. A
# Delegate=yes unit has OOMPolicy=continue (systemd's default for delegated
# units; ociunit sets no OOMPolicy=), so systemd's result is "signal", not
# "oom-kill"; the manager's journal names the OOM killer.
oom='{"memory": {"limit": 16777216, "swap": 16777216}}'
bundle "$OVM_WORK/ovm-fr-oom" "{\"ociVersion\": \"1.0.2\", \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\",
  \"args\": [\"/bin/dd\", \"if=/dev/zero\", \"of=/dev/null\", \"bs=64M\", \"count=1\"], \"env\": [\"PATH=/usr/bin:/bin\"]},
  \"linux\": {\"resources\": $oom}}"
# oom_logged UNIT: the manager's journal line about an OOM kill in UNIT
oom_logged() {
  journalctl --sync 2>/dev/null
  journalctl -b -q -o cat USER_UNIT="$1" 2>/dev/null | grep -m1 'killed by the OOM killer'
}
unit=ovm-fr-oom-run.service
note_unit "$unit"
rc=0
as_dev ociunit run --service --wait --json --collect --unit "$unit" "$OVM_WORK/ovm-fr-oom" \
  >"$OVM_OUT/oom.out" 2>"$OVM_OUT/oom.err" || rc=$?
expect_eq "OOM-killed payload: exit status" 137 "$rc"
expect_match "OOM-killed payload: the result" '"result":"(oom-kill|signal)".*"termination":"code=killed/signal=9"' "$(<"$OVM_OUT/oom.out")"
expect_match "OOM-killed payload: the summary" 'code=killed/signal=9' "$(<"$OVM_OUT/oom.err")"
expect_match "OOM-killed payload: the manager saw the OOM kill" 'OOM killer' "$(oom_logged "$unit")"
expect_empty "OOM-killed payload: nothing left" "$(leftovers "$unit")"
[ "$rc" = 137 ] && killed=$((killed + 1))

# The same bundle installed: `status` tells how its last run ended.
unit=ovm-fr-oom.service
note_unit "$unit"
expect_rc "install the OOM bundle" 0 as_dev ociunit install "$OVM_WORK/ovm-fr-oom"
usys start "$unit" 2>/dev/null
wait_inactive "$unit" 30 || _bad "$unit still running"
status=$(as_dev ociunit status "$unit" 2>&1)
printf '%s\n' "$status" | sed 's/^/    | /'
expect_match "status: how the last run ended" 'last run: result (oom-kill|signal), code=killed/signal=9' "$status"
expect_match "status: the manager saw the OOM kill" 'OOM killer' "$(oom_logged "$unit")"
as_dev ociunit uninstall "$unit" >/dev/null 2>&1
usys reset-failed "$unit" 2>/dev/null

# 3. The launcher's own faults, in a delegated scope as dev: it exits 125
#    with one line and the payload does not run.
ran=$OVM_WORK/ran
# launch NAME [STRACE ARGS... --] LAUNCHER ARGS...: sets rc and err
launch() {
  local name=$1 tracer=()
  shift
  if [ "$1" = strace ]; then
    while [ "$1" != -- ]; do tracer+=("$1"); shift; done
    shift
  fi
  rm -f "$ran"
  rc=0
  err=$(as_dev systemd-run --user --scope --quiet --unit="ovm-fr-$name.scope" -p Delegate=yes \
    "${tracer[@]}" "$@" 2>&1 >/dev/null) || rc=$?
}
# fails_closed NAME: the checks after a launch that must fail closed
fails_closed() {
  expect_eq "$1: exit status" 125 "$rc"
  expect_match "$1: one-line message" '^ociunit-launch: [^'$'\n'']+$' "$err"
  check "$1: the payload did not run" test ! -e "$ran"
  [ "$rc" = 125 ] && killed=$((killed + 1))
}
payload=(-- /bin/sh -c "echo > $ran")

# A read-only cgroup file (memory.current is the kernel's, 0444).
launch read-only "$L" --leaf payload --write memory.current=0 "${payload[@]}"
fails_closed "a read-only cgroup file"
note "message: $err"
launch read-only-best-effort "$L" --leaf payload --best-effort --write memory.current=0 "${payload[@]}"
expect_eq "a read-only cgroup file with --best-effort: exit status" 0 "$rc"
check "--best-effort: the payload ran" test -e "$ran"
expect_match "--best-effort: a warning" 'memory.current' "$err"

# EBUSY: a process left in the delegated cgroup (no internal processes)
# keeps its cgroup.subtree_control from taking a controller.
launch busy /bin/sh -c "sleep 4 & exec $L --leaf payload --controllers memory --write memory.max=100000000 -- /bin/sh -c 'echo > $ran'"
fails_closed "an EBUSY cgroup.subtree_control"
expect_match "EBUSY: named" 'EBUSY|busy' "$err"
note "message: $err"
usys stop ovm-fr-busy.scope 2>/dev/null

# The leaf vanishes between its mkdir and its use (root removes it while the
# launcher is held after mkdirat returns); --best-effort does not cover that.
# vanish NAME LAUNCHER-ARGS...
vanish() {
  local name=$1 remover
  shift
  (
    for ((i = 0; i < 300; i++)); do
      for d in "$MANAGER/ovm-fr-$name.scope" "$MANAGER"/*.slice/"ovm-fr-$name.scope"; do
        [ -d "$d/payload" ] && { rmdir "$d/payload"; exit 0; }
      done
      sleep 0.05
    done
  ) &
  remover=$!
  launch "$name" strace -f -qq -o /dev/null -e trace=mkdir,mkdirat \
    -e inject=mkdir,mkdirat:delay_exit=2000000 -- "$L" --leaf payload "$@" "${payload[@]}"
  wait "$remover"
}
vanish vanish --write memory.max=100000000
fails_closed "a leaf that vanished"
note "message: $err"
vanish vanish-best-effort --best-effort --write memory.max=100000000
fails_closed "a leaf that vanished, with --best-effort"
note "faults injected and survived: $killed"
