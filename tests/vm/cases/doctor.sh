# doctor: stock delegation fails on io/cpuset and prints the drop-in; full passes; the verdict agrees with ociunit run
# suites: bookworm trixie
# variants: full stock
# timeout: 240
need_ociunit

rc=0
report=$(as_dev ociunit doctor 2>&1) || rc=$?
printf '%s\n' "$report" | sed 's/^/    | /'
if [ "$OVM_VARIANT" = stock ]; then
  expect_eq "doctor (no bundle) on stock delegation: exit status" 1 "$rc"
  expect_match "it names the missing controllers" 'cpuset, io not delegated to user@1000.service' "$report"
  expect_match "it prints the drop-in" 'Delegate=cpu cpuset io memory pids' "$report"
else
  expect_eq "doctor (no bundle) on full delegation: exit status" 0 "$rc"
  expect_match "delegation ok" 'ok +delegation' "$report"
fi
expect_match "cgroup v2 ok" 'ok +cgroup v2 +unified hierarchy at /sys/fs/cgroup' "$report"
expect_match "the manager's version" "ok +manager +user manager, systemd $OVM_SYSTEMD" "$report"

# A bundle with an io limit: doctor's verdict, then what a real run does.
out=$OVM_WORK/doc.txt
bundle "$OVM_WORK/ovm-doc" "$(limits_bundle_json "$out" '{"memory": {"limit": 268435456}, "blockIO": {"weight": 500}}')"
rc=0
report=$(as_dev ociunit doctor "$OVM_WORK/ovm-doc" 2>&1) || rc=$?
printf '%s\n' "$report" | sed 's/^/    | /'
doctor_rc=$rc
rc=0
as_dev ociunit run --service --wait -q --collect --unit ovm-doc-run.service "$OVM_WORK/ovm-doc" \
  >/dev/null 2>"$OVM_OUT/run.err" &
runner=$!
note_unit ovm-doc-run.service
if [ "$OVM_VARIANT" = stock ]; then
  expect_eq "doctor BUNDLE: exit status" 1 "$doctor_rc"
  expect_match "the trial shows the launcher's message" 'FAIL +trial +in a scratch unit: ociunit-launch: .*io' "$report"
  wait "$runner" || rc=$?
  expect_eq "and ociunit run of the bundle fails the same way (125)" 125 "$rc"
  # A launcher that refuses at once may end before systemd 252 has seen it start, which fails
  # the start job; --wait still owes the launcher's status. The race is rare: try it often.
  codes=""
  for i in $(seq 10); do
    rc=0
    as_dev ociunit run --service --wait -q --collect --unit "ovm-doc-race$i.service" "$OVM_WORK/ovm-doc" \
      >/dev/null 2>>"$OVM_OUT/run.err" || rc=$?
    codes="$codes $rc"
  done
  expect_eq "ten more runs all end with 125" "$(printf ' 125%.0s' $(seq 10))" "$codes"
else
  expect_eq "doctor BUNDLE: exit status" 0 "$doctor_rc"
  expect_match "the trial passed" 'ok +trial' "$report"
  wait_file "$out" 60 || _bad "ociunit run of the bundle did not start the payload"
  expect_eq "and ociunit run of the bundle applies the limit" 268435456 "$(kv "$out" memory.max)"
  usys stop ovm-doc-run.service
  wait "$runner"
fi
expect_eq "doctor left no scratch unit behind" "" "$(usys list-units --all --plain --no-legend 'ociunit-doctor-*' 2>/dev/null)"
