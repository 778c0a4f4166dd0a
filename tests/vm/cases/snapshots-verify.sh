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
mkdir -p "$D/system" "$D/user"
# One awk for all snapshots (an exec costs ~0.1 s under TCG): the unit is the
# body after insta's front matter (--- ... ---); it is a unit if it has a
# [Unit] line; it is a user unit if the snapshot's command has --user, or the
# unit says Manager=user, "# ociunit: --user" or WantedBy=default.target.
# Prints "KIND TARGET_SYSTEMD FILE" per unit.
manifest=$(awk -v dir="$D" '
  function flush() {
    if (name == "" || !isunit) return
    kind = user ? "user" : "system"
    f = dir "/" kind "/" name
    printf "%s", body > f
    close(f)
    print kind, (target == "" ? 0 : target), f
  }
  FNR == 1 {
    flush()
    name = FILENAME; sub(/.*\//, "", name); sub(/\.snap$/, "", name); sub(/^.*unit@/, "", name)
    gsub(/[^A-Za-z0-9_.-]/, "_", name)
    name = "ovm-snap-" name ".service"
    n = 0; body = ""; isunit = 0; user = 0; target = ""
  }
  n < 2 && /^---$/ { n++; next }
  n == 1 && / --user( |$)/ { user = 1 }
  n >= 2 {
    body = body $0 "\n"
    if ($0 == "[Unit]") isunit = 1
    if ($0 == "Manager=user" || $0 ~ /^# ociunit: --user/ || $0 == "WantedBy=default.target") user = 1
    if ($0 ~ /^TargetSystemd=[0-9]+/) { target = substr($0, 15) + 0 }
  }
  END { flush() }
' "${snaps[@]}")
sys=() usr=() skipped=0
while read -r kind target f; do
  if [ "$target" -gt "$OVM_SYSTEMD" ]; then
    note "$(basename "$f"): TargetSystemd=$target > $OVM_SYSTEMD, not verified here"
    skipped=$((skipped + 1))
  elif [ "$kind" = user ]; then
    usr+=("$f")
  else
    sys+=("$f")
  fi
done <<<"$manifest"
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
