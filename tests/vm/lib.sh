# shellcheck shell=bash
# tests/vm/lib.sh - helpers for the VM test cases (tests/vm/cases/NAME.sh).
#
# guest-main.sh sources this file, then the case, in a fresh bash running as
# root inside the guest, with the working directory $OVM_WORK (owned by dev).
# A case passes if it exits 0 and no expect_* check failed; `case_skip`
# makes it a SKIP, anything else a FAIL.
#
# Environment seen by a case:
#   OVM_SUITE     bookworm | trixie
#   OVM_VARIANT   full | stock (the Delegate= of user@.service)
#   OVM_SYSTEMD   systemd's major version (252, 257)
#   OVM_CASE      the case name
#   OVM_FILES     the files from the host (bin/, bundles/, snapshots/, rt/)
#   OVM_WORK      a fresh directory for the case, owned by dev
#   OVM_OUT       the case's result directory (comes back to the host)
#   OVM_SEED      the round-trip seed
#   OVM_REBOOTED  1 when the case runs again after its reboot_guest, else ""
#   CI            as on the host
#   DEV_UNITS     /home/dev/.config/systemd/user
#
# Under TCG every exec costs 50-100 ms: prefer bash builtins in loops.

DEV_UNITS=/home/dev/.config/systemd/user
OVM_CHECKS_FAILED=0
OVM_CHECKS_PASSED=0

# --- running things as dev --------------------------------------------------

# as_dev CMD...: run CMD as dev (runuser, ~0.3 s) with dev's session bus, so
# `systemctl --user` and `systemd-run --user` talk to dev's user manager.
# CMD stays in the case's cgroup; use as_dev_unit to run inside the manager.
as_dev() {
  runuser -u dev -- env -i HOME=/home/dev USER=dev LOGNAME=dev SHELL=/bin/bash \
    PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    XDG_RUNTIME_DIR=/run/user/1000 \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
    "$@"
}

# as_dev_unit CMD...: run CMD as a transient service of dev's user manager
# (inside the delegated user@1000.service tree; ~1.5-2 s under TCG).
as_dev_unit() { as-dev "$@"; }

# usys ARGS...: systemctl --user as dev.
usys() { as_dev systemctl --user "$@"; }

# --- checks -------------------------------------------------------------------

_ok() { OVM_CHECKS_PASSED=$((OVM_CHECKS_PASSED + 1)); echo "  ok    $*"; }
_bad() { OVM_CHECKS_FAILED=$((OVM_CHECKS_FAILED + 1)); echo "  FAIL  $*"; }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [ "$3" = "$2" ]; then _ok "$1 = $(_show "$3")"
  else _bad "$1: expected $(_show "$2"), got $(_show "$3")"; fi
}
# expect_ne NAME UNEXPECTED ACTUAL
expect_ne() {
  if [ "$3" != "$2" ]; then _ok "$1 = $(_show "$3")"
  else _bad "$1: got $(_show "$3")"; fi
}
# expect_match NAME ERE ACTUAL
expect_match() {
  if [[ $3 =~ $2 ]]; then _ok "$1 = $(_show "$3")"
  else _bad "$1: $(_show "$3") does not match /$2/"; fi
}
# expect_no_match NAME ERE ACTUAL
expect_no_match() {
  if [[ $3 =~ $2 ]]; then _bad "$1: $(_show "$3") matches /$2/"
  else _ok "$1 (no /$2/)"; fi
}
# expect_empty NAME ACTUAL: ACTUAL must be "" (e.g. the output of a verifier)
expect_empty() {
  if [ -z "$2" ]; then _ok "$1: no output"
  else _bad "$1: unexpected output:"; printf '%s\n' "$2" | sed 's/^/        | /'; fi
}
# expect_rc NAME EXPECTED CMD...: run CMD, compare its exit status
expect_rc() {
  local name=$1 want=$2 rc=0
  shift 2
  "$@" || rc=$?
  expect_eq "$name (exit status)" "$want" "$rc"
}
# check NAME CMD...: pass if CMD succeeds
check() {
  local name=$1
  shift
  if "$@"; then _ok "$name"; else _bad "$name (failed: $*)"; fi
}
# note MESSAGE: informational line in the case log
note() { echo "  info  $*"; }
# _show VALUE: a value on one line
_show() { local v=${1//$'\n'/\\n}; printf "'%s'" "${v:0:300}"; }

# case_skip REASON: stop here, the case is a SKIP
case_skip() { echo "SKIP: $*"; exit 77; }
# case_fail REASON: stop here, the case is a FAIL
case_fail() { echo "FAIL: $*"; exit 1; }

# --- reboots -----------------------------------------------------------------

# reboot_guest: end the case's first phase here and reboot the guest (once per
# case; the case needs "# reboot: yes" among its first lines).  Its check
# counts are kept; after the boot the case runs again from its top with
# `rebooted` true, in the same $OVM_WORK, appending to its log.  Its EXIT trap
# does not run now (the case sets it again from its top); what it started runs
# into the shutdown.  The root disk (/etc, /home, /var, the installed
# packages) is kept, /run and the journal start afresh.
reboot_guest() {
  if [ -n "${OVM_REBOOT_REFUSED:-}" ] || [ -z "${OVM_REBOOT_STATE:-}" ]; then
    case_fail "reboot_guest: ${OVM_REBOOT_REFUSED:-only guest-main runs a case across a reboot}"
  fi
  printf 'OVM_CHECKS_PASSED=%d OVM_CHECKS_FAILED=%d\n' "$OVM_CHECKS_PASSED" "$OVM_CHECKS_FAILED" \
    >"$OVM_REBOOT_STATE"
  note "rebooting the guest ($OVM_CHECKS_PASSED checks passed, $OVM_CHECKS_FAILED failed so far)"
  trap - EXIT
  exit 99   # guest-main's code for "reboot, then run me again"
}
# rebooted: true in the run of a case after its reboot_guest
rebooted() { [ -n "${OVM_REBOOTED:-}" ]; }

# in_ci: true when running for CI (CI=true on the host)
in_ci() { [ "${CI:-}" = true ]; }

# need_ociunit: the binaries must be there (in CI a missing binary fails)
need_ociunit() {
  local b
  for b in /usr/local/bin/ociunit /usr/local/bin/ociunit-launch; do
    if [ ! -x "$b" ]; then
      if in_ci; then case_fail "$b is missing"; else case_skip "$b is missing"; fi
    fi
  done
}

# --- units --------------------------------------------------------------------

# note_unit UNIT...: the journal of these units is attached if the case fails
note_unit() { printf '%s\n' "$@" >>"$OVM_OUT/units"; }

# compile_user BUNDLE UNIT [OCIUNIT ARGS...]: compile BUNDLE as dev into
# ~/.config/systemd/user/UNIT (UNIT with .service); output in $OVM_OUT.
compile_user() {
  local bundle=$1 unit=$2 rc=0
  shift 2
  note_unit "$unit"
  as_dev mkdir -p "$DEV_UNITS"
  as_dev ociunit compile "$bundle" --user "$@" -o "$DEV_UNITS/$unit" \
    2>"$OVM_OUT/compile-$unit.err" || rc=$?
  if [ "$rc" != 0 ]; then
    _bad "ociunit compile $bundle --user $* -> exit $rc: $(head -c 600 "$OVM_OUT/compile-$unit.err")"
    return 1
  fi
  cp "$DEV_UNITS/$unit" "$OVM_OUT/$unit" 2>/dev/null
  return 0
}

# unit_prop UNIT PROP: one property of a user unit
unit_prop() { usys show -P "$2" "$1" 2>/dev/null; }

# load_props UNIT: all properties of a user unit into PROP[NAME] (one
# systemctl call instead of one per property)
declare -gA PROP=()
load_props() {
  local k v
  PROP=()
  while IFS='=' read -r k v; do PROP[$k]=$v; done < <(usys show "$1" 2>/dev/null)
}

# unit_cgroup UNIT: the unit's cgroup directory under /sys/fs/cgroup
unit_cgroup() { echo "/sys/fs/cgroup$(unit_prop "$1" ControlGroup)"; }

# wait_file PATH [SECS]: wait until PATH exists (default 60 s)
wait_file() {
  local i n=$(( ${2:-60} * 10 ))
  for ((i = 0; i < n; i++)); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_inactive UNIT [SECS]: wait until the user unit is inactive or failed
wait_inactive() {
  local i s n=$(( ${2:-60} * 2 ))
  for ((i = 0; i < n; i++)); do
    s=$(usys is-active "$1" 2>/dev/null)
    case $s in inactive|failed) return 0 ;; esac
    sleep 0.5
  done
  return 1
}

# kv FILE KEY: value of KEY=VALUE in FILE (as written by ovm-cgdump)
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }

# bundle DIR JSON: write DIR/config.json (owned by dev)
bundle() {
  as_dev mkdir -p "$1"
  printf '%s\n' "$2" | as_dev tee "$1/config.json" >/dev/null
}

# limits_bundle_json OUTFILE RESOURCES_JSON [EXTRA_ARGS_JSON]: an OCI config
# whose payload dumps its cgroup files into OUTFILE, then sleeps
limits_bundle_json() {
  cat <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/usr/local/libexec/ovm-cgdump", "$1", "sleep", "600"],
    "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "OVM=1"],
    "cwd": "/"
  },
  "root": {"path": "/"},
  "linux": {
    "resources": $2
  }
}
EOF
}

# systemd_at_least N
systemd_at_least() { [ "$OVM_SYSTEMD" -ge "$1" ]; }

# delegated CONTROLLER: is it in dev's user manager's cgroup.controllers?
delegated() {
  local c
  c=" $(cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers) "
  [[ $c == *" $1 "* ]]
}

# spec_bundle DIR RUNTIME ARGS_JSON [EDIT]: a bundle as a user makes it: a busybox root file system,
# `RUNTIME spec --rootless`, then args and resources edited (perl: the guest has no jq).
spec_bundle() {
  local dir=$1 runtime=$2 args=$3 edit=${4:-}
  as_dev mkdir -p "$dir/rootfs/bin"
  as_dev cp /bin/busybox "$dir/rootfs/bin/busybox"
  local a
  for a in sh cat echo sleep ls id; do as_dev ln -sf busybox "$dir/rootfs/bin/$a"; done
  (cd "$dir" && as_dev "$runtime" spec --rootless) || case_fail "$runtime spec --rootless failed"
  # What this release's runtime generates on a cgroup v2 host (tests/bundles/*-spec-rootless).
  cp "$dir/config.json" "$OVM_OUT/$runtime-spec-rootless.json"
  local limits='"memory": {"limit": 1000000000}, "pids": {"limit": 100}'
  as_dev env ARGS="$args" LIMITS="$limits" perl -0pi -e '
    s#"args": \[\s*"sh"\s*\]#"args": $ENV{ARGS}#;
    s#"resources": \{#"resources": {$ENV{LIMITS},# or s#"linux": \{#"linux": {"resources": {$ENV{LIMITS}},#;
    '"$edit" "$dir/config.json"
}

# --- benchmarks ---------------------------------------------------------------

# OVM_BENCH_HOG: the conditions a benchmark runs under, in turn: 0 a quiet guest (the
# default), 1 a busy loop beside it at normal priority, nice the same at nice 19; e.g. "0 1".
# bench_hog_start COND / bench_hog_stop: the busy loop of one condition.
bench_hog_start() {
  OVM_HOG_PID=
  case $1 in
    0) return 0 ;;
    nice) nice -n 19 sh -c 'while :; do :; done' & ;;
    *) sh -c 'while :; do :; done' & ;;
  esac
  OVM_HOG_PID=$!
}
bench_hog_stop() { [ -z "${OVM_HOG_PID:-}" ] || { kill "$OVM_HOG_PID"; wait "$OVM_HOG_PID" 2>/dev/null; }; }

# bench_interleave DEFS N: N rounds of the parts DEFS defines (a bash file that sets
# parts=(FUNCTION ...) and defines each FUNCTION, called with the round's number), as dev in
# one process (so runuser's cost is not counted). The order alternates, forward in even rounds
# and backward in odd ones: a unit's stop leaves the manager work (its cgroup's removal, the
# garbage collection) that the next command otherwise always pays for the same neighbour.
# Prints per round the cumulative time of the parts in DEFS's order (µs, from 0), for
# bench_medians.
bench_interleave() {
  cat >"$OVM_WORK/interleave.sh" <<'SCRIPT'
#!/bin/bash
source "$1"
declare -A took
for ((i = 0; i < $2; i++)); do
  order=("${parts[@]}")
  if ((i % 2)); then
    order=()
    for ((k = ${#parts[@]} - 1; k >= 0; k--)); do order+=("${parts[k]}"); done
  fi
  for part in "${order[@]}"; do
    t=${EPOCHREALTIME/./}
    "$part" "$i"
    took[$part]=$((${EPOCHREALTIME/./} - t))
  done
  line=0 sum=0
  for part in "${parts[@]}"; do
    sum=$((sum + took[$part]))
    line+=" $sum"
  done
  echo "$line"
done
SCRIPT
  chmod +x "$OVM_WORK/interleave.sh"
  as_dev "$OVM_WORK/interleave.sh" "$1" "$2"
}

# bench_medians FILE: FILE has lines of timestamps in µs, t0 t1 ... tk; prints the median of
# each interval t(i+1)-t(i) in ms.
bench_medians() {
  awk 'function median(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
      return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
    { k = NF - 1; for (c = 1; c <= k; c++) d[c, NR] = $(c + 1) - $c }
    END { for (c = 1; c <= k; c++) { for (r = 1; r <= NR; r++) x[r] = d[c, r]; printf "%.1f ", median(x, NR) / 1000 }; print "" }' "$1"
}

# ratio A B: A/B to three places.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# The baseline build's ociunit that tests/vm/run staged (OVM_BASELINE_BIN), if any: the
# benchmarks time it beside this build's.
OVM_BASELINE=$OVM_FILES/baseline/ociunit
[ -x "$OVM_BASELINE" ] || OVM_BASELINE=
