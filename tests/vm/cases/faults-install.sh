# faults-install: `ociunit install` SIGKILLed at each step (strace), onto a full file system, and raced: the unit directory always holds the old or the new unit, complete, no user file is lost, the next install succeeds and removes what a killed one left
# suites: bookworm trixie
# variants: full
# timeout: 300
need_ociunit
command -v strace >/dev/null || case_fail "strace is not in the image (tests/vm/build-image)"
shopt -s nullglob dotglob

# sleeper_bundle DIR MEMORY: a bundle whose unit differs by its memory limit
sleeper_bundle() {
  bundle "$1" "{\"ociVersion\": \"1.0.2\", \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\",
    \"args\": [\"/bin/sleep\", \"600\"], \"env\": [\"PATH=/usr/bin:/bin\"]},
    \"linux\": {\"resources\": {\"memory\": {\"limit\": $2}}}}"
}
# expected BUNDLE NAME FILE: the unit `install` should write, by `compile`
expected() { as_dev ociunit compile "$1" --user --name "$2" -o "$3"; }
# temps DIR: the temporary files of writers in DIR, one a line
temps() { local t=("$1"/.*.ociunit-*.tmp); [ ${#t[@]} = 0 ] || printf '%s\n' "${t[@]##*/}"; }
# same FILE EXPECTED_FILE: byte for byte (bash builtins: $(<) keeps all but trailing newlines;
# the sizes catch those)
same() {
  [ -f "$1" ] && [ -f "$2" ] && [ "$(<"$1")" = "$(<"$2")" ] &&
    [ "$(wc -c <"$1")" = "$(wc -c <"$2")" ]
}
# ociunit_pid: the PID of the one running `ociunit` process (a /proc walk, no exec)
ociunit_pid() {
  local p c
  for p in /proc/[0-9]*; do
    read -r c <"$p/comm" 2>/dev/null || continue
    [ "$c" = ociunit ] && { echo "${p#/proc/}"; return 0; }
  done
  return 1
}
# wait_same FILE EXPECTED_FILE SECS: until FILE is EXPECTED_FILE
wait_same() {
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    [ "$(<"$1")" = "$(<"$2")" ] && return 0
    sleep 0.05
  done 2>/dev/null
  return 1
}

dir=$OVM_WORK/ovm-fi
unit=ovm-fi.service
path=$DEV_UNITS/$unit
note_unit "$unit"
as_dev mkdir -p "$DEV_UNITS"
sleeper_bundle "$dir" 100000000
expected "$dir" ovm-fi "$OVM_WORK/old.service"
# Running, so that the manager keeps it loaded and NeedDaemonReload= tells whether it reloaded.
expect_rc "install --now (old)" 0 as_dev ociunit install "$dir" --now
check "install writes what compile writes" same "$path" "$OVM_WORK/old.service"
sleeper_bundle "$dir" 200000000
expected "$dir" ovm-fi "$OVM_WORK/new.service"

# 1. SIGKILL on entering a syscall of the write: before the temporary file
#    exists (getpid names it), before its fsync, before the rename. The old
#    unit stays; what the writer left is a hidden temporary file.
killed=0
for point in getpid fsync rename,renameat,renameat2; do
  rc=0
  as_dev strace -f -qq -o /dev/null -e "trace=$point" -e "inject=$point:signal=SIGKILL:when=1" \
    ociunit install "$dir" >/dev/null 2>"$OVM_OUT/kill-$point.err" || rc=$?
  expect_eq "killed at ${point%%,*}: exit status" 137 "$rc"
  check "killed at ${point%%,*}: the old unit, complete" same "$path" "$OVM_WORK/old.service"
  note "killed at ${point%%,*}: left $(temps "$DEV_UNITS" | wc -l) temporary file(s)"
  [ "$rc" = 137 ] && killed=$((killed + 1))
done
expect_eq "the temporary file before the rename is hidden, not a unit name" \
  ".$unit.ociunit-" "$(temps "$DEV_UNITS" | sed -n '1s/[0-9]*\.tmp$//p')"

# 2. Killed after the rename, before the reload (a delay after rename()
#    returns), and in the reload (the user manager stopped): the new unit,
#    complete; the manager has not read it yet.
manager=$(systemctl show -P MainPID user@1000.service)
for point in after-rename in-reload; do
  delay=4000000
  [ "$point" = in-reload ] && delay=500000
  as_dev strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
    -e "inject=rename,renameat,renameat2:delay_exit=$delay" \
    ociunit install "$dir" >/dev/null 2>"$OVM_OUT/kill-$point.err" &
  job=$!
  if wait_same "$path" "$OVM_WORK/new.service" 30; then
    [ "$point" = in-reload ] && { kill -STOP "$manager"; sleep 1.5; }
    pid=$(ociunit_pid) && kill -KILL "$pid"
    [ "$point" = in-reload ] && kill -CONT "$manager"
  else
    _bad "$point: the new unit never appeared"
  fi
  rc=0; wait "$job" || rc=$?
  expect_eq "killed $point: exit status" 137 "$rc"
  check "killed $point: the new unit, complete" same "$path" "$OVM_WORK/new.service"
  [ "$rc" = 137 ] && killed=$((killed + 1))
  # The manager still takes the Reload() the killed client queued while it was stopped.
  [ "$point" = after-rename ] &&
    expect_eq "killed $point: the manager has not reloaded" yes "$(unit_prop "$unit" NeedDaemonReload)"
  as_dev cp "$OVM_WORK/old.service" "$path"
done

# The next install succeeds, reloads, and removes the killed writers' files.
expect_rc "install after the kills" 0 as_dev ociunit install "$dir"
check "the new unit, complete" same "$path" "$OVM_WORK/new.service"
expect_eq "the manager has read it" no "$(unit_prop "$unit" NeedDaemonReload)"
expect_empty "no temporary file left" "$(temps "$DEV_UNITS")"

# 3. --force over a unit the user wrote, killed before the backup's rename
#    and before the unit's: the user's file is at its path, byte for byte.
mine=$DEV_UNITS/ovm-fi-mine.service
printf '[Service]\nExecStart=/bin/true mine\n' | as_dev tee "$mine" "$OVM_WORK/mine.service" >/dev/null
for n in 1 2; do
  rc=0
  as_dev strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
    -e "inject=rename,renameat,renameat2:signal=SIGKILL:when=$n" \
    ociunit install "$dir" --name ovm-fi-mine --force >/dev/null 2>&1 || rc=$?
  expect_eq "--force killed at rename $n: exit status" 137 "$rc"
  check "--force killed at rename $n: the user's unit is in place" same "$mine" "$OVM_WORK/mine.service"
  [ "$rc" = 137 ] && killed=$((killed + 1))
done
check "the backup was complete before the unit's rename" same "$mine.ociunit-backup" "$OVM_WORK/mine.service"
expect_rc "install --force after the kills" 0 as_dev ociunit install "$dir" --name ovm-fi-mine --force
check "the user's unit is in the backup" same "$mine.ociunit-backup" "$OVM_WORK/mine.service"
expect_empty "no temporary file left after --force" "$(temps "$DEV_UNITS")"
note "faults injected and survived: $killed SIGKILLs"
rm -f "$mine" "$mine.ociunit-backup"

# 4. A full file system as the unit directory: install and compile -o fail
#    with the reason, the old unit stays, nothing else is left.
full=$OVM_WORK/full
as_dev mkdir -p "$full"
mount -t tmpfs -o size=64k,uid=1000,gid=1000,mode=0755 ovm-full "$full" || case_fail "mount tmpfs"
sleeper_bundle "$dir" 100000000
expect_rc "install into the tmpfs" 0 as_dev ociunit install "$dir" --unit-dir "$full"
as_dev dd if=/dev/zero of="$full/filler" bs=4k 2>/dev/null
sleeper_bundle "$dir" 200000000
rc=0; err=$(as_dev ociunit install "$dir" --unit-dir "$full" 2>&1) || rc=$?
expect_eq "install onto a full file system: exit status" 1 "$rc"
expect_match "install: the reason, naming the file" "^ociunit: cannot write $full/$unit: No space left on device" "$err"
check "install: the old unit, complete" same "$full/$unit" "$OVM_WORK/old.service"
rc=0; err=$(as_dev ociunit compile "$dir" --user -o "$full/$unit" 2>&1) || rc=$?
expect_eq "compile -o onto a full file system: exit status" 1 "$rc"
expect_match "compile -o: the reason, naming the file" "^ociunit: cannot write $full/$unit: No space left on device" "$err"
check "compile -o: the old unit, complete" same "$full/$unit" "$OVM_WORK/old.service"
expect_empty "nothing left in the full directory" "$(temps "$full")"
umount "$full"

# 5. Two installs of one name from two bundles. One of them waits for the
#    other's lock inside its write (a delay before its rename), then sees the
#    other's unit and refuses it; then both start at once.
for b in a b; do
  sleeper_bundle "$OVM_WORK/race-$b" "$([ $b = a ] && echo 300000000 || echo 400000000)"
  expected "$OVM_WORK/race-$b" ovm-fi-race "$OVM_WORK/race-$b.service"
done
race=$DEV_UNITS/ovm-fi-race.service
note_unit ovm-fi-race.service
as_dev strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 -e 'inject=rename,renameat,renameat2:delay_enter=3000000' \
  ociunit install "$OVM_WORK/race-a" --name ovm-fi-race >/dev/null 2>&1 &
job=$!
for ((i = 0; i < 200; i++)); do [ -n "$(temps "$DEV_UNITS")" ] && break; sleep 0.05; done
rc=0; err=$(as_dev ociunit install "$OVM_WORK/race-b" --name ovm-fi-race 2>&1) || rc=$?
rc_a=0; wait "$job" || rc_a=$?
expect_eq "the first install (held in its write)" 0 "$rc_a"
expect_eq "the second install: exit status" 1 "$rc"
expect_match "the second install reports the conflict" 'generated from another bundle' "$err"
check "the first one's unit, complete" same "$race" "$OVM_WORK/race-a.service"
rm -f "$race"
as_dev ociunit install "$OVM_WORK/race-a" --name ovm-fi-race >"$OVM_OUT/race-a.out" 2>&1 &
job_a=$!
as_dev ociunit install "$OVM_WORK/race-b" --name ovm-fi-race >"$OVM_OUT/race-b.out" 2>&1 &
job_b=$!
rc_a=0; wait "$job_a" || rc_a=$?
rc_b=0; wait "$job_b" || rc_b=$?
expect_eq "at once: one wins, one refuses" "0 1" "$(printf '%s\n' "$rc_a" "$rc_b" | sort | paste -sd' ')"
winner=a; [ "$rc_b" = 0 ] && winner=b
expect_match "at once: the loser reports the conflict" 'generated from another bundle' \
  "$(cat "$OVM_OUT/race-$([ $winner = a ] && echo b || echo a).out")"
check "at once: the winner's unit ($winner), complete" same "$race" "$OVM_WORK/race-$winner.service"
expect_empty "no temporary file left after the races" "$(temps "$DEV_UNITS")"
usys stop "$unit"
rm -f "$race" "$path"
usys daemon-reload
