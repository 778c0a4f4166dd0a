#!/bin/bash
# guest-main.sh SUITE VARIANT CASE... - the in-guest driver of tests/vm/run.
#
# Runs as root in the guest (started by the testbed runner once dev's user
# manager is up), in $TESTBED_FILES, which holds what tests/vm/run staged:
#   bin/ociunit bin/ociunit-launch bin/ovm-dump  guest/ovm-cgdump  lib.sh
#   cases/NAME.sh  bundles/ (tests/vm/bundles)  snapshots/ (the repo's)  rt/
#   env (KEY=VALUE lines: CI, OVM_SEED, OVM_SOAK, OVM_CASE_TIMEOUT, ...)
# Writes to $TESTBED_OUT (brought back by vm-run -o):
#   facts              systemd version, kernel, delegated controllers
#   results.tsv        STATUS<TAB>CASE<TAB>SECONDS, one line per case
#   cases/NAME/log     the case's output
#   cases/NAME/journal journal excerpt (failed cases only)
#   cases/NAME/...     whatever the case put into $OVM_OUT
#   resume             the marker of a reboot a case asked for (see below)
#
# Reboots: a case with "# reboot: yes" may call reboot_guest (lib.sh) once,
# when the boot allows it (vm-run --allow-reboot, which tests/vm/run passes
# for such a case; the runner then sets TESTBED_REBOOT_RC and TESTBED_BOOT).
# The case exits 99 with its check counts in $OVM_REBOOT_STATE; this driver
# writes the resume marker (the case, its counts and time) and exits with
# $TESTBED_REBOOT_RC; the guest reboots and the runner runs this driver again
# with the same arguments.  In that boot the cases with a result are skipped
# (the root disk keeps the variant; facts stay the first boot's), and the
# case runs again from its top with OVM_REBOOTED=1, its work directory as it
# was, appending to its log.  Any other reboot (a panic, a reset) ends the VM
# as before: vm-run boots it again only after the runner's record of a
# request.
set -u
SUITE=$1 VARIANT=$2
shift 2
F=$TESTBED_FILES
O=$TESTBED_OUT
BOOT=${TESTBED_BOOT:-1}
RESUME=$O/resume
up() { local t _; read -r t _ </proc/uptime; echo "$t"; }
# Progress also goes to the serial console (console.log, vm-run -v).
say() { echo "guest-main[$(up)]: $*"; echo "guest-main[$(up)]: $*" >/dev/console 2>/dev/null; }

# shellcheck disable=SC1091
[ ! -f "$F/env" ] || { set -a; . "$F/env"; set +a; }

resume_case=""
if [ "$BOOT" -gt 1 ]; then
  # shellcheck disable=SC1090
  . "$RESUME"
  say "boot $BOOT: case $resume_case asked for this reboot, resuming it"
fi

# --- install the binaries -----------------------------------------------------
for b in ociunit ociunit-launch; do
  [ -f "$F/bin/$b" ] && install -m 755 "$F/bin/$b" "/usr/local/bin/$b"
done
# The snapshots' (and the default) launcher path.
mkdir -p /usr/libexec /usr/local/libexec
[ ! -f "$F/bin/ociunit-launch" ] || install -m 755 "$F/bin/ociunit-launch" /usr/libexec/ociunit-launch
install -m 755 "$F/guest/ovm-cgdump" /usr/local/libexec/ovm-cgdump
[ ! -f "$F/bin/ovm-dump" ] || install -m 755 "$F/bin/ovm-dump" /usr/local/libexec/ovm-dump
[ ! -f "$F/bin/ovm-notify" ] || install -m 755 "$F/bin/ovm-notify" /usr/local/libexec/ovm-notify

# --- the guest kernel under TCG ----------------------------------------------
# The first cgroup with a CPU quota turns the scheduler's cfs_bandwidth_used static key on and
# the last one to go turns it off; each turn patches the kernel's text (an int3, then the jump).
# Under qemu's multi-threaded TCG a vCPU in enqueue_entity once hit that int3 after the patch
# was done ("Oops: int3", a panic; trixie, 6.12, in a clean-clone CI run). The cases start and
# stop units with CPUQuota= hundreds of times per boot; one quota that stays keeps the key on,
# so it turns once per boot, here, before any case runs. 1000% never throttles 2 CPUs.
systemd-run --quiet --unit ovm-cfs-bandwidth-key -p CPUQuota=1000% sleep infinity ||
  say "could not start ovm-cfs-bandwidth-key.service: the cfs_bandwidth_used key still turns"

# --- delegation variant -------------------------------------------------------
# Only in the first boot: the drop-in stays removed across a reboot.
U=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service
if [ "$VARIANT" = stock ] && [ "$BOOT" = 1 ]; then
  say "stock variant: removing the Delegate= drop-in, restarting user@1000.service"
  rm -f /etc/systemd/system/user@.service.d/delegate.conf
  systemctl daemon-reload
  systemctl restart user@1000.service
  for ((i = 0; i < 600; i++)); do
    [ -S /run/user/1000/bus ] && [ -e "$U/cgroup.controllers" ] &&
      [ "$(systemctl is-active user@1000.service)" = active ] && break
    sleep 0.1
  done
fi
delegated=$(cat "$U/cgroup.controllers" 2>/dev/null)
case "$VARIANT" in
  full) want="cpuset cpu io memory pids" ;;
  stock) want="cpu memory pids" ;;
  *) want="?" ;;
esac

sv=$(systemctl --version | awk 'NR==1{print $2}')
OVM_SYSTEMD=${sv%%.*}
OVM_SYSTEMD=${OVM_SYSTEMD%%[!0-9]*}
[ "$BOOT" -gt 1 ] || {
  echo "suite=$SUITE"
  echo "variant=$VARIANT"
  echo "systemd=$(systemctl --version | head -n1)"
  echo "systemd_major=$OVM_SYSTEMD"
  echo "kernel=$(uname -r)"
  echo "delegated=$delegated"
  echo "root_controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "ociunit=$(/usr/local/bin/ociunit --version 2>&1 | head -n1)"
} >"$O/facts"
say "systemd $OVM_SYSTEMD, variant $VARIANT, dev has: $delegated"
if [ "$delegated" != "$want" ]; then
  say "WARNING: expected '$want' delegated to user@1000.service, got '$delegated'"
fi

# --- the cases ----------------------------------------------------------------
export OVM_SUITE=$SUITE OVM_VARIANT=$VARIANT OVM_SYSTEMD OVM_FILES=$F
export OVM_SEED=${OVM_SEED:-} CI=${CI:-}
export LANG=C.UTF-8
[ "$BOOT" -gt 1 ] || : >"$O/results.tsv"
mkdir -p /home/dev/ovm /home/dev/.config/systemd/user
chown dev:dev /home/dev/ovm /home/dev/.config /home/dev/.config/systemd /home/dev/.config/systemd/user
declare -A finished=()
while IFS=$'\t' read -r _ c _; do finished[$c]=1; done <"$O/results.tsv"

cursor_now() { journalctl -q -n 1 -o export 2>/dev/null | sed -n 's/^__CURSOR=//p'; }
# save_journal: the excerpt of the case's units (else of everything) since
# $cursor, appended to $co/journal
save_journal() {
  local args=() after=() j="" u
  journalctl --sync 2>/dev/null
  if [ -s "$co/units" ]; then
    while read -r u; do
      [ -n "$u" ] || continue
      [ ${#args[@]} -eq 0 ] || args+=(+)
      args+=("_SYSTEMD_USER_UNIT=$u" + "USER_UNIT=$u" + "UNIT=$u")
    done < <(sort -u "$co/units")
    # The launcher's lines, even those that lost their unit fields.
    args+=(+ SYSLOG_IDENTIFIER=ociunit-launch)
  fi
  [ -z "$cursor" ] || after=(--after-cursor="$cursor")
  if [ ${#args[@]} -gt 0 ]; then
    j=$(journalctl -b --no-pager -q -o short-monotonic "${after[@]}" "${args[@]}" 2>&1 | tail -n 300)
  fi
  [ -n "$j" ] || j=$(journalctl -b --no-pager -q -o short-monotonic "${after[@]}" 2>&1 | tail -n 150)
  { [ "$BOOT" = 1 ] || echo "-- boot $BOOT --"; printf '%s\n' "$j"; } >>"$co/journal"
}

for c in "$@"; do
  [ -z "${finished[$c]:-}" ] || continue
  file=$F/cases/$c.sh
  co=$O/cases/$c
  work=/home/dev/ovm/$c
  t=$(sed -n 's/^# *timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -n1)
  t=${OVM_CASE_TIMEOUT:-${t:-180}}
  # Whether the case may call reboot_guest, and if not why.
  state=/run/ovm-reboot-$c refused=""
  rm -f "$state"
  if [ "$(sed -n 's/^# *reboot: *//p' "$file" | head -n1)" != yes ]; then
    refused="the case does not declare '# reboot: yes'"
  elif [ -z "${TESTBED_REBOOT_RC:-}" ]; then
    refused="this boot does not allow reboots (vm-run --allow-reboot)"
  fi
  passed=0 failed=0 rebooted="" before=0
  cursor=""
  if [ "$c" = "$resume_case" ]; then
    # The second phase: the work directory and the log as the first left them.
    rebooted=1 passed=$resume_passed failed=$resume_failed refused="one reboot per case, and it had it"
    away=$(awk -v a="$resume_clock" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
    before=$(awk -v a="$resume_secs" -v b="$away" 'BEGIN{printf "%.1f", a+b}')
    echo "  info  boot $BOOT: ${away}s after reboot_guest (the guest's clock, to a second)" >>"$co/log"
    say "case $c after the reboot (timeout ${t}s)"
  else
    mkdir -p "$co"
    chown dev:dev "$co"
    rm -rf "$work"
    mkdir -p "$work"
    chown dev:dev "$work"
    cursor=$(cursor_now)
    say "case $c (timeout ${t}s)"
  fi
  t0=$(up)
  rc=0
  OVM_CASE=$c OVM_WORK=$work OVM_OUT=$co OVM_REBOOTED=$rebooted \
    OVM_REBOOT_STATE=$state OVM_REBOOT_REFUSED=$refused \
    timeout -k 5 "$t" bash -c '
      . "$1" || exit 1
      OVM_CHECKS_PASSED=$3 OVM_CHECKS_FAILED=$4
      cd "$OVM_WORK" || exit 1
      . "$2"
      if [ "$OVM_CHECKS_FAILED" -gt 0 ]; then
        echo "$OVM_CHECKS_FAILED of $((OVM_CHECKS_FAILED + OVM_CHECKS_PASSED)) checks failed"
        exit 1
      fi
      if [ "$OVM_CHECKS_PASSED" -eq 0 ]; then echo "FAIL: the case made no checks"; exit 1; fi
      echo "all $OVM_CHECKS_PASSED checks passed"
      exit 0' ovm-case "$F/lib.sh" "$file" "$passed" "$failed" </dev/null >>"$co/log" 2>&1 || rc=$?
  t1=$(up)
  secs=$(awk -v a="$t0" -v b="$t1" -v c="$before" 'BEGIN{printf "%.1f", b-a+c}')
  # reboot_guest: the first phase is over; the units keep running into the reboot.
  if [ "$rc" = 99 ] && [ -s "$state" ]; then
    . "$state"
    [ "$OVM_CHECKS_FAILED" = 0 ] || save_journal
    printf 'resume_case=%q resume_passed=%d resume_failed=%d resume_secs=%s resume_clock=%s\n' \
      "$c" "$OVM_CHECKS_PASSED" "$OVM_CHECKS_FAILED" "$secs" "$EPOCHREALTIME" >"$RESUME"
    say "case $c: rebooting the guest (${secs}s so far)"
    exit "$TESTBED_REBOOT_RC"
  fi
  case $rc in
    0) st=PASS ;;
    77) st=SKIP ;;
    124|137) st=FAIL; echo "FAIL: timed out after ${t}s" >>"$co/log" ;;
    *) st=FAIL ;;
  esac
  [ "$st" != FAIL ] || save_journal
  # Leave a clean manager for the next case.
  if [ -s "$co/units" ]; then
    mapfile -t us < <(sort -u "$co/units")
    runuser -u dev -- env XDG_RUNTIME_DIR=/run/user/1000 \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
      systemctl --user stop "${us[@]}" >/dev/null 2>&1
    runuser -u dev -- env XDG_RUNTIME_DIR=/run/user/1000 \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
      systemctl --user reset-failed >/dev/null 2>&1
  fi
  printf '%s\t%s\t%s\n' "$st" "$c" "$secs" >>"$O/results.tsv"
  say "case $c: $st (${secs}s)"
done
say "done"

# tests/vm/run --shell: an interactive root shell on the serial console, with
# lib.sh loaded and the OVM_* variables set.  `exit` powers the VM off.
if [ "${OVM_SHELL:-}" = 1 ]; then
  mkdir -p /home/dev/ovm/shell "$O/shell"
  chown dev:dev /home/dev/ovm/shell "$O/shell"
  {
    echo '. /etc/bash.bashrc 2>/dev/null'
    echo ". '$F/lib.sh'"
    echo "export OVM_SUITE=$SUITE OVM_VARIANT=$VARIANT OVM_SYSTEMD=$OVM_SYSTEMD OVM_FILES=$F"
    echo "export OVM_CASE=shell OVM_WORK=/home/dev/ovm/shell OVM_OUT=$O/shell OVM_SEED=$OVM_SEED"
    echo "cd '$F'"
    echo "PS1='[ovm $SUITE/$VARIANT \\W]# '"
    echo "echo 'ociunit VM shell: $SUITE, systemd $OVM_SYSTEMD, variant $VARIANT (dev has: $delegated).'"
    echo "echo 'Run a case: ovm_case NAME.  Helpers: as_dev CMD, usys ARGS (systemctl --user), as-dev CMD.'"
    echo "echo 'Results of the cases run before: $O.  exit powers the VM off.'"
    echo 'ovm_case() { (OVM_CASE=$1; OVM_WORK=/home/dev/ovm/$1; OVM_OUT=$OVM_OUT/$1; mkdir -p $OVM_WORK $OVM_OUT; chown dev:dev $OVM_WORK $OVM_OUT; cd $OVM_WORK && . $OVM_FILES/cases/$1.sh; echo "failed checks: $OVM_CHECKS_FAILED"); }'
  } >/root/.ovm-shellrc
  stty -F /dev/ttyS0 sane 2>/dev/null
  TERM=${OVM_TERM:-vt100} setsid -w -c bash --rcfile /root/.ovm-shellrc -i <>/dev/ttyS0 >&0 2>&0
fi
exit 0
