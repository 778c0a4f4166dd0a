# snapshots-verify: every unit snapshot (snapshots/unit@*.snap) passes systemd-analyze verify with no output
# suites: trixie
# variants: full
# timeout: 600
need_ociunit
S=$OVM_FILES/snapshots
shopt -s nullglob
snaps=("$S"/*unit*.snap)
[ ${#snaps[@]} -gt 0 ] || { if in_ci; then case_fail "no unit snapshots in snapshots/"; else case_skip "no unit snapshots in snapshots/"; fi; }
D=$OVM_WORK/units
as_dev mkdir -p "$D/system" "$D/user"
sys=() usr=() skipped=0
for f in "${snaps[@]}"; do
  # The unit is the body after the insta front matter (--- ... ---).
  body=$(awk 'n >= 2 {print; next} /^---$/ {n++}' "$f")
  grep -q '^\[Unit\]$' <<<"$body" || continue
  name=$(basename "$f" .snap)
  name=${name#*unit@}
  name=ovm-snap-${name//[^A-Za-z0-9_.-]/_}.service
  header=$(awk '/^---$/ {n++; next} n == 1' "$f")
  want=$(sed -n 's/^TargetSystemd=\([0-9]*\).*/\1/p' <<<"$body" | head -n1)
  if [ -n "$want" ] && [ "$want" -gt "$OVM_SYSTEMD" ]; then
    note "$name: TargetSystemd=$want > $OVM_SYSTEMD, not verified here"
    skipped=$((skipped + 1))
    continue
  fi
  if grep -q -- '--user' <<<"$header" || grep -q '^Manager=user' <<<"$body" ||
     grep -q '^# ociunit: --user' <<<"$body" || grep -q '^WantedBy=default\.target' <<<"$body"; then
    printf '%s\n' "$body" >"$D/user/$name"
    usr+=("$D/user/$name")
  else
    printf '%s\n' "$body" >"$D/system/$name"
    sys+=("$D/system/$name")
  fi
done
chown -R dev:dev "$D"
note "${#sys[@]} system units, ${#usr[@]} user units, $skipped for a newer systemd"
[ $((${#sys[@]} + ${#usr[@]})) -gt 0 ] || case_fail "no unit found in the snapshots"
cp -a "$D" "$OVM_OUT/"
# One verify for all units of a manager (fast); if it says anything, one per
# unit, so that each complaint names its unit.
verify_all() {  # MODE FILES...
  local mode=$1 v u
  shift
  [ $# -gt 0 ] || return 0
  if [ "$mode" = user ]; then v=$(as_dev systemd-analyze --user verify "$@" 2>&1)
  else v=$(systemd-analyze verify "$@" 2>&1); fi
  if [ -z "$v" ]; then
    _ok "systemd-analyze ${mode/system/} verify: $# $mode units, no output"
    return 0
  fi
  for u in "$@"; do
    if [ "$mode" = user ]; then v=$(as_dev systemd-analyze --user verify "$u" 2>&1)
    else v=$(systemd-analyze verify "$u" 2>&1); fi
    expect_empty "$mode unit $(basename "$u")" "$v"
  done
}
verify_all system "${sys[@]}"
verify_all user "${usr[@]}"
