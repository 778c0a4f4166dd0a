# container: bundles straight from `crun spec --rootless` and `runc spec --rootless` run as installed units through crun and runc; the container reads its own memory.max (999997440), exit codes pass through, stop ends inactive, a SIGKILLed runtime does not block the next start, the container sees neither the host's files nor can raise its limit
# suites: bookworm trixie
# variants: full stock
# timeout: 420
need_ociunit
for r in crun runc; do
  command -v "$r" >/dev/null || case_fail "$r is not in the image"
done
note "$(crun --version | head -n1), $(runc --version | head -n1)"

# journal_of UNIT: what the unit's processes printed since run_to_end started it. Not
# --user-unit (as root that means uid 0); and journald may not know the unit of a process that
# exits at once, so the launcher's lines since then count too (one unit runs at a time here).
journal_of() {
  journalctl --sync 2>/dev/null
  { journalctl -b -q -o cat --no-pager _SYSTEMD_USER_UNIT="$1"
    journalctl -q -o cat --no-pager --after-cursor="$STARTED" SYSLOG_IDENTIFIER=ociunit-launch
  } 2>/dev/null
}

# run_to_end NAME: start NAME.service and wait until it is inactive or failed
run_to_end() {
  STARTED=$(journalctl -q -n 1 -o export 2>/dev/null | sed -n 's/^__CURSOR=//p')
  usys start "$1.service" 2>/dev/null
  wait_inactive "$1.service" 60 || _bad "$1 did not end"
  load_props "$1.service"
}

for runtime in crun runc; do
  name=ovm-ctr-$runtime
  # What the container reads goes to the journal, and into a host directory bind-mounted at
  # /out: journald may not know the unit of a process that exits at once, a file is certain.
  out_dir=$OVM_WORK/$name-out
  as_dev mkdir -p "$out_dir"
  spec_bundle "$OVM_WORK/$name" "$runtime" \
    '["sh", "-c", "cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/memory.max >/out/memory.max"]' \
    's#"mounts": \[#"mounts": [{"destination": "/out", "type": "bind", "source": "'"$out_dir"'", "options": ["rbind", "rw"]},#;'
  compile_user "$OVM_WORK/$name" "$name.service" --runtime "$runtime" || continue
  expect_match "$runtime: the unit records the runtime" "Runtime=$runtime " "$(cat "$DEV_UNITS/$name.service")"
  usys daemon-reload
  run_to_end "$name"
  expect_eq "$runtime: result" success "${PROP[Result]}"
  expect_eq "$runtime: exit status" 0 "${PROP[ExecMainStatus]}"
  expect_eq "$runtime: MemoryMax" 1000000000 "${PROP[MemoryMax]}"
  expect_eq "$runtime: the container reads its memory.max" 999997440 "$(cat "$out_dir/memory.max" 2>/dev/null)"
  note "$runtime: in the journal: $(journal_of "$name.service" | tr '\n' ' ')"
done

# Exit status 7 is the unit's.
name=ovm-ctr-exit
spec_bundle "$OVM_WORK/$name" crun '["sh", "-c", "exit 7"]'
compile_user "$OVM_WORK/$name" "$name.service" --runtime crun
usys daemon-reload
run_to_end "$name"
expect_eq "exit 7: ExecMainStatus" 7 "${PROP[ExecMainStatus]}"
expect_eq "exit 7: result" exit-code "${PROP[Result]}"

# What the container can see and do: not the host's home, not its own limit. (Through
# `run --pipe`: journald may lose the unit of a process that exits this fast.)
name=ovm-ctr-inside
spec_bundle "$OVM_WORK/$name" crun '["sh", "-c", "ls /home; echo home-listed; echo max > /sys/fs/cgroup/memory.max && echo raised; cat /sys/fs/cgroup/memory.max; cat /proc/self/cgroup"]'
out=$(as_dev ociunit run --service --pipe -q --runtime crun "$OVM_WORK/$name" 2>&1)
printf '%s\n' "$out" >"$OVM_OUT/inside.txt"
expect_no_match "the host's /home/dev is not visible" '(^|'$'\n'')dev($|'$'\n'')' "$out"
expect_match "the container ran" 'home-listed' "$out"
expect_no_match "the container cannot raise its memory.max" 'raised' "$out"
expect_match "its cgroup is the namespace root" '0::/($|'$'\n'')' "$out"

# Stop: an init that handles SIGTERM, and a bundle without a PID namespace, both end inactive.
name=ovm-ctr-stop
spec_bundle "$OVM_WORK/$name" crun '["sh", "-c", "trap \"exit 0\" TERM; sleep 600 & wait"]'
name2=ovm-ctr-nopid
# Without a PID namespace the container cannot mount a new proc: it gets the host's.
spec_bundle "$OVM_WORK/$name2" crun '["sleep", "600"]' '
  s#\{\s*"type": "pid"\s*\},?##;
  s#"destination": "/proc",\s*"type": "proc",\s*"source": "proc"#"destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind"]#;'
for n in "$name" "$name2"; do
  compile_user "$OVM_WORK/$n" "$n.service" --runtime crun
done
usys daemon-reload
for n in "$name" "$name2"; do
  expect_rc "$n: start" 0 usys start "$n.service"
  sleep 2
  expect_eq "$n: running" active "$(usys is-active "$n.service")"
  usys stop "$n.service"
  load_props "$n.service"
  expect_eq "$n: stopped inactive" inactive "${PROP[ActiveState]}"
  expect_eq "$n: result" success "${PROP[Result]}"
done

# Readiness only on request: with the annotation org.ociunit.notify the start waits for the
# container's READY=1 (relayed by the runtime, the main process), 3 s after it began.
for runtime in crun runc; do
  nname=ovm-ctr-notify-$runtime
  spec_bundle "$OVM_WORK/$nname" "$runtime" '["sh", "-c", "trap \"exit 0\" TERM; sleep 3; ovm-notify && sleep 600 & wait"]' \
    's#\A\s*\{#{"annotations": {"org.ociunit.notify": "true"},#;'
  as_dev cp /usr/local/libexec/ovm-notify "$OVM_WORK/$nname/rootfs/bin/ovm-notify"
  compile_user "$OVM_WORK/$nname" "$nname.service" --runtime "$runtime" || continue
  expect_match "$runtime notify: Type=notify, NotifyAccess=main" 'Type=notify.*NotifyAccess=main' \
    "$(tr '\n' ' ' <"$DEV_UNITS/$nname.service")"
  usys daemon-reload
  t0=$EPOCHREALTIME
  expect_rc "$runtime notify: start" 0 usys start "$nname.service"
  t1=$EPOCHREALTIME
  waited=$(( (${t1/./} - ${t0/./}) / 1000000 ))
  check "$runtime notify: the start waited for READY=1 (${waited} s)" test "$waited" -ge 3
  expect_eq "$runtime notify: active" active "$(usys is-active "$nname.service")"
  usys stop "$nname.service"
done

# A SIGKILLed runtime leaves no state that blocks the next start.
usys start "$name.service"
sleep 2
usys kill -s KILL "$name.service"
wait_inactive "$name.service" 30
usys reset-failed "$name.service" 2>/dev/null
expect_rc "start after SIGKILL" 0 usys start "$name.service"
sleep 2
expect_eq "running again after SIGKILL" active "$(usys is-active "$name.service")"
usys stop "$name.service"

# Transient: a service with its output piped back, and a scope around this process, with each
# runtime; the transient unit's runtime directory (config and state) is gone afterwards.
for runtime in crun runc; do
  bundle=$OVM_WORK/ovm-ctr-$runtime
  out=$(as_dev ociunit run --service --pipe -q --runtime "$runtime" --unit "ovm-ctr-run-$runtime" \
    "$bundle" 2>"$OVM_OUT/run-service-$runtime.err")
  expect_eq "$runtime: run --service --pipe prints the container's memory.max" 999997440 "$out"
  check "$runtime: the transient unit's runtime directory is gone" \
    test ! -e "/run/user/1000/ociunit/ovm-ctr-run-$runtime"
  out=$(as_dev ociunit run --scope -q --runtime "$runtime" "$bundle" 2>"$OVM_OUT/run-scope-$runtime.err")
  expect_eq "$runtime: run --scope prints the container's memory.max" 999997440 "$out"
done
expect_rc "run --service --wait: the container's exit 7" 7 \
  as_dev ociunit run --service --wait -q --runtime crun "$OVM_WORK/ovm-ctr-exit"

# A bundle straight from `crun spec --rootless`, not edited at all (`sh`, terminal: true): sh
# reads its empty stdin and exits 0.
name=ovm-ctr-unchanged
spec_bundle "$OVM_WORK/$name" crun '["sh"]'
as_dev cp "$OVM_OUT/crun-spec-rootless.json" "$OVM_WORK/$name/config.json"
compile_user "$OVM_WORK/$name" "$name.service"
usys daemon-reload
run_to_end "$name"
expect_eq "unchanged crun spec --rootless bundle: result" success "${PROP[Result]}"

# A root file system without the program: the unit fails with the runtime's one-line error,
# `run` exits with its status, and nothing is left (no container state; no unit, with -G as
# for systemd-run, which otherwise keeps a failed unit for inspection).
name=ovm-ctr-missing
spec_bundle "$OVM_WORK/$name" crun '["/no/such/program"]'
rc=0
as_dev ociunit run --service --wait -G -q --runtime crun --unit "$name" "$OVM_WORK/$name" \
  >"$OVM_OUT/missing.out" 2>"$OVM_OUT/missing.err" || rc=$?
expect_ne "missing program: run fails" 0 "$rc"
note "missing program: exit status $rc"
journalctl --sync
expect_match "missing program: the runtime's error in the journal" '/no/such/program' \
  "$(journalctl -b -q -o cat _SYSTEMD_USER_UNIT="$name.service" 2>/dev/null)"
check "missing program: no state left" test ! -e "/run/user/1000/ociunit/$name"
expect_eq "missing program: no unit left" inactive "$(usys is-active "$name.service" 2>/dev/null)"

# doctor BUNDLE: the runtime, user namespaces, the cgroup namespace, and a trial container.
out=$(as_dev ociunit doctor "$OVM_WORK/ovm-ctr-crun" 2>&1)
printf '%s\n' "$out" >"$OVM_OUT/doctor.txt"
expect_match "doctor: the runtime" 'ok +runtime +crun' "$out"
expect_match "doctor: user namespaces" 'ok +userns' "$out"
expect_match "doctor: the trial built the container" 'ok +trial .*crun built the container' "$out"

# A system unit: the container runs rootful, as root.
name=ovm-ctr-system
mkdir -p "/srv/$name/rootfs/bin"
cp /bin/busybox "/srv/$name/rootfs/bin/busybox"
ln -sf busybox "/srv/$name/rootfs/bin/sh"
ln -sf busybox "/srv/$name/rootfs/bin/cat"
(cd "/srv/$name" && crun spec)
perl -0pi -e 's#"args": \[\s*"sh"\s*\]#"args": ["sh", "-c", "id -u; cat /sys/fs/cgroup/memory.max"]#;
  s#"resources": \{#"resources": {"memory": {"limit": 1000000000},#;' "/srv/$name/config.json"
ln -sf busybox "/srv/$name/rootfs/bin/id"
ociunit compile "/srv/$name" --system --runtime crun -o "/etc/systemd/system/$name.service" \
  2>"$OVM_OUT/system-compile.err" || _bad "compile --system: $(cat "$OVM_OUT/system-compile.err")"
cp "/etc/systemd/system/$name.service" "$OVM_OUT/" 2>/dev/null
systemctl daemon-reload
systemctl start "$name.service"
for _ in $(seq 1 40); do
  case $(systemctl is-active "$name.service") in inactive|failed) break ;; esac
  sleep 0.5
done
journalctl --sync
out=$(journalctl -b -q -o cat _SYSTEMD_UNIT="$name.service" 2>/dev/null)
expect_eq "system unit: result" success "$(systemctl show -P Result "$name.service")"
expect_match "system unit: the container runs as root and reads its limit" '^0'$'\n''999997440$' "$out"
rm -f "/etc/systemd/system/$name.service"
systemctl daemon-reload
