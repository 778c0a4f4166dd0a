# load: 200 `ociunit run --service --no-block` started at once, each bundle with its own memory limit: all start, each payload reads its own memory.max in its leaf, all end successfully, nothing is left
# suites: bookworm trixie
# variants: full
# timeout: 600
need_ociunit
n=200
MANAGER=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service
out=$OVM_WORK/seen
as_dev mkdir -p "$out"
# Bundle i limits memory to 64+i MiB; its payload (one sh, builtins only)
# writes the memory.max of its own cgroup, then sleeps so that they overlap
# (the files are read once all units have ended).
as_dev bash -c '
  n=$1 work=$2 out=$3
  for ((i = 0; i < n; i++)); do
    mkdir -p "$work/ovm-load-$i"
    printf "%s\n" "{\"ociVersion\": \"1.0.2\", \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\",
      \"args\": [\"/bin/sh\", \"-c\", \"read -r c </proc/self/cgroup; read -r m </sys/fs/cgroup\${c#0::}/memory.max; echo \$m \${c#0::} >$out/\$OVM_I; exec sleep 10\"],
      \"env\": [\"PATH=/usr/bin:/bin\", \"OVM_I=$i\"]},
      \"linux\": {\"resources\": {\"memory\": {\"limit\": $(( (64 + i) << 20 ))}}}}" >"$work/ovm-load-$i/config.json"
  done
' _ "$n" "$OVM_WORK" "$out"

# All at once: each ociunit returns once its start job is queued.
t0=${EPOCHREALTIME/./}
as_dev bash -c '
  n=$1 work=$2 log=$3
  for ((i = 0; i < n; i++)); do
    ociunit run --service --no-block -q --unit "ovm-load-$i.service" "$work/ovm-load-$i" \
      >/dev/null 2>"$log/start-$i.err" &
  done
  fails=0
  for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
  echo "$fails" >"$log/start-fails"
' _ "$n" "$OVM_WORK" "$OVM_OUT"
t1=${EPOCHREALTIME/./}
expect_eq "$n run --no-block: failures" 0 "$(<"$OVM_OUT/start-fails")"
note "$n starts returned in $(( (t1 - t0) / 1000 )) ms"
shopt -s nullglob
for e in "$OVM_OUT"/start-*.err; do [ -s "$e" ] && { sed -n '1,3s/^/    | /p' "$e"; break; }; done

# Every payload reports; the units end (inactive, collected) with none failed.
# On systemd 252 this is where the manager's late attach of a busy start shows
# (ociunit-launch's stay_entered): a launcher pulled back beside its leaf.
# (A failed unit is collected at once: look for one every 5 s, not for 4 minutes.)
for ((s = 0; s < 240; s++)); do
  seen=("$out"/[0-9]*)
  [ ${#seen[@]} -ge $n ] && break
  ((s % 5 == 4)) && [ -n "$(usys list-units --plain --no-legend --state=failed 'ovm-load-*' 2>/dev/null)" ] && break
  sleep 1
done
t2=${EPOCHREALTIME/./}
note "${#seen[@]} payloads reported within $(( (t2 - t0) / 1000 )) ms of the first start"
running=$(usys list-units --plain --no-legend --state=active 'ovm-load-*' 2>/dev/null | wc -l)
note "$running units active at once after the last report"
for ((s = 0; s < 240; s++)); do
  left=$(usys list-units --all --plain --no-legend 'ovm-load-*' 2>/dev/null)
  [ -z "$left" ] && break
  [[ $left == *failed* ]] && break
  sleep 1
done
t3=${EPOCHREALTIME/./}
expect_empty "all $n units ended and were collected (none failed)" "$left"
[ -z "$left" ] || journalctl -q --no-pager -o cat -t ociunit-launch -n 3 | sed 's/^/    | /'
note "all ended within $(( (t3 - t0) / 1000 )) ms"

# Each payload's own leaf held its own bundle's limit.
right=0 wrong=0
for ((i = 0; i < n; i++)); do
  [ -e "$out/$i" ] || continue
  read -r m cg <"$out/$i"
  if [ "$m" = $(( (64 + i) << 20 )) ] && [[ $cg == */ovm-load-$i.service/payload ]]; then
    right=$((right + 1))
  else
    wrong=$((wrong + 1))
    [ "$wrong" -le 3 ] && note "payload $i: memory.max $m in $cg"
  fi
done
expect_eq "payloads that read their own bundle's memory.max in their own leaf" "$n of $n" "$right of $n"
leftover=("$MANAGER"/ovm-load-* "$MANAGER"/*.slice/ovm-load-*)
expect_eq "cgroups left" 0 "${#leftover[@]}"
usys reset-failed 2>/dev/null
