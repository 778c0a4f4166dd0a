# lifecycle: install -> start -> limits -> change the bundle -> diff exits 1 -> reinstall -> new limits -> uninstall; hand edits are kept
# suites: bookworm trixie
# variants: full
# timeout: 300
need_ociunit

out=$OVM_WORK/lc.txt
dir=$OVM_WORK/ovm-lc
unit=ovm-lc.service
note_unit "$unit"
bundle "$dir" "$(limits_bundle_json "$out" '{"memory": {"limit": 1000000000}, "pids": {"limit": 100}}')"
expect_rc "install --now" 0 as_dev ociunit install "$dir" --now
check "the unit file exists" test -f "$DEV_UNITS/$unit"
wait_file "$out" 60 || _bad "the payload did not write $out"
expect_eq "memory.max after install" 999997440 "$(kv "$out" memory.max)"
expect_eq "active" active "$(unit_prop "$unit" ActiveState)"
expect_rc "diff of an unchanged bundle" 0 as_dev ociunit diff "$dir"

list=$(as_dev ociunit list 2>&1)
expect_match "list shows it, current and active" "$unit +active/running +current" "$list"

# Change a limit: diff shows it and exits 1.
rm -f "$out"
bundle "$dir" "$(limits_bundle_json "$out" '{"memory": {"limit": 2000000000}, "pids": {"limit": 100}}')"
expect_match "list sees the drift" "$unit .* changed" "$(as_dev ociunit list 2>&1)"
rc=0
diff=$(as_dev ociunit diff "$dir" 2>&1) || rc=$?
expect_eq "diff exit status" 1 "$rc"
expect_match "diff shows the new limit" $'\n\\+MemoryMax=2000000000' "$diff"
expect_match "diff shows the old limit" $'\n-MemoryMax=1000000000' "$diff"

expect_rc "reinstall --now (restarts)" 0 as_dev ociunit install "$dir" --now
wait_file "$out" 60 || _bad "the payload did not write $out after the reinstall"
expect_eq "memory.max after reinstall" 1999998976 "$(kv "$out" memory.max)"
expect_eq "MemoryMax on the unit" 2000000000 "$(unit_prop "$unit" MemoryMax)"
status=$(as_dev ociunit status "$unit" 2>&1)
printf '%s\n' "$status" | sed 's/^/    | /'
expect_match "status shows the limit" 'MemoryMax +2000000000' "$status"
expect_match "status shows the payload cgroup" 'memory.max +1999998976' "$status"

# A hand edit is refused without --force and kept as a backup with it.
as_dev sed -i 's/^TasksMax=100$/TasksMax=99/' "$DEV_UNITS/$unit"
rc=0
err=$(as_dev ociunit install "$dir" 2>&1) || rc=$?
expect_eq "install over a hand-edited unit: exit status" 1 "$rc"
expect_match "it says why" 'edited by hand' "$err"
expect_match "the edit is still there" '^TasksMax=99$' "$(grep TasksMax "$DEV_UNITS/$unit")"
expect_rc "install --force" 0 as_dev ociunit install "$dir" --force
expect_match "the hand-edited file is kept" '^TasksMax=99$' "$(grep TasksMax "$DEV_UNITS/$unit.ociunit-backup" 2>&1)"
rm -f "$DEV_UNITS/$unit.ociunit-backup"

# A unit ociunit did not write is never removed.
printf '[Service]\nExecStart=/bin/true\n' | as_dev tee "$DEV_UNITS/ovm-mine.service" >/dev/null
rc=0
as_dev ociunit uninstall ovm-mine 2>/dev/null || rc=$?
expect_eq "uninstall of a foreign unit: exit status" 1 "$rc"
check "the foreign unit is still there" test -f "$DEV_UNITS/ovm-mine.service"
rm -f "$DEV_UNITS/ovm-mine.service"

expect_rc "uninstall" 0 as_dev ociunit uninstall "$unit"
check "no unit file left" test ! -e "$DEV_UNITS/$unit"
expect_match "no unit left in the manager" 'not-found|inactive' "$(unit_prop "$unit" LoadState) $(unit_prop "$unit" ActiveState)"
expect_eq "no process left" "" "$(pgrep -u dev -f 'ovm-cgdump|sleep 600' || true)"
