# fail-closed: compiled units with an io or cpuset limit fail with 125 and the launcher's message when the controller is not delegated
# suites: bookworm trixie
# variants: stock
# timeout: 180
need_ociunit

# name RESOURCES
for spec in 'ovm-fc-io|{"blockIO": {"weight": 500}}' 'ovm-fc-cpuset|{"cpu": {"cpus": "0"}}'; do
  name=${spec%%|*} res=${spec#*|}
  out=$OVM_WORK/$name.txt
  unit=$name.service
  bundle "$OVM_WORK/$name" "$(limits_bundle_json "$out" "$res")"
  compile_user "$OVM_WORK/$name" "$unit" || continue
  usys daemon-reload
  usys start "$unit" 2>/dev/null   # Type=exec: the start itself may succeed
  wait_inactive "$unit" 30 || _bad "$unit still running"
  expect_eq "$name: ActiveState" failed "$(unit_prop "$unit" ActiveState)"
  expect_eq "$name: exit status" 125 "$(unit_prop "$unit" ExecMainStatus)"
  check "$name: the payload did not run" test ! -e "$out"
  # A process that exits at once may lose its unit fields in the journal
  # (journald looks its cgroup up too late), so also look for the launcher's
  # lines that name the unit's cgroup; and give journald a moment.
  msg=
  for _ in 1 2 3 4 5; do
    journalctl --sync 2>/dev/null
    msg=$( { journalctl -b -q -o cat _SYSTEMD_USER_UNIT="$unit"
             journalctl -b -q -o cat SYSLOG_IDENTIFIER=ociunit-launch | grep -F "/$unit/"
           } 2>/dev/null | grep '^ociunit-launch: ' | sort -u)
    [ -z "$msg" ] || break
    sleep 1
  done
  expect_match "$name: the launcher's message in the journal" '^ociunit-launch: ' "$msg"
  note "message: $msg"
  expect_eq "$name: exactly one message line" 1 "$(grep -c '^ociunit-launch: ' <<<"$msg")"
done
