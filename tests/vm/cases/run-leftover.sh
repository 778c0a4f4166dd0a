# run-leftover: a leftover failed unit of the same name is reset and replaced; no bus gives a clear error
# suites: trixie
# variants: full
# timeout: 180
need_ociunit

bundle "$OVM_WORK/ovm-left" '{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/sh", "-c", "exit ${CODE:-1}"],
    "env": ["PATH=/usr/bin:/bin"]}
}'
unit=ovm-left.service
note_unit "$unit"
rc=0
as_dev ociunit run --service --wait -q --unit "$unit" "$OVM_WORK/ovm-left" || rc=$?
expect_eq "first run fails (exit 1, no --collect)" 1 "$rc"
expect_eq "the failed unit is left over" failed "$(unit_prop "$unit" ActiveState)"
rc=0
as_dev ociunit run --service --wait --unit "$unit" "$OVM_WORK/ovm-left" 2>"$OVM_OUT/second.err" || rc=$?
expect_eq "second run with the same name runs again (exit 1 again, not 'unit exists')" 1 "$rc"
expect_match "it says it reset the leftover" 'left over from an earlier run: reset and replaced' "$(cat "$OVM_OUT/second.err")"

# No bus: a clear error naming the fix.
rc=0
err=$(runuser -u dev -- env -i HOME=/home/dev PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR=/nonexistent \
  ociunit run --service --wait "$OVM_WORK/ovm-left" 2>&1) || rc=$?
expect_eq "no bus: exit status" 1 "$rc"
expect_match "no bus: the message names the fix" 'dbus-user-session' "$err"
note "$err"
