# roundtrip: 200 random argv/env sets through compile -> unit -> systemd -> payload, byte for byte
# suites: bookworm trixie
# variants: full
# timeout: 900
need_ociunit
RT=$OVM_FILES/rt
[ -s "$RT/names" ] || case_fail "no round-trip bundles in $RT (gen-roundtrip.py)"
seed=$(cat "$RT/seed")
mapfile -t names <"$RT/names"
note "seed $seed, ${#names[@]} bundles (replay: OCIUNIT_VM_SEED=$seed tests/vm/run --case roundtrip)"
echo "seed=$seed" >"$OVM_OUT/seed"
OUTROOT=/home/dev/ovm/rt-out
as_dev rm -rf "$OUTROOT"
as_dev mkdir -p "$OUTROOT" "$DEV_UNITS"

# The host compiled them (tests/vm/run, --systemd-version of this suite,
# --launcher /usr/local/bin/ociunit-launch): under TCG a compile in the guest
# costs ~0.5 s, 200 of them minutes.  The other cases compile in the guest.
# OVM_RT_GUEST_COMPILE=1 compiles here instead.
t0=$SECONDS
mkdir -p "$OVM_OUT/units"
if [ "${OVM_RT_GUEST_COMPILE:-}" = 1 ] || [ ! -d "$RT/units-$OVM_SYSTEMD" ]; then
  as_dev bash -c '
    rt=$1 units=$2 out=$3 v=$4
    shift 4
    for n; do
      ociunit compile "$rt/$n" --user --systemd-version "$v" -o "$units/$n.service" 2>"$out/$n.compile-err" ||
        echo "$n exit $?" >>"$out/compile-failures"
    done' rt "$RT" "$DEV_UNITS" "$OUTROOT" "$OVM_SYSTEMD" "${names[@]}"
  note "compiled ${#names[@]} units in the guest in $((SECONDS - t0))s"
  if [ -s "$OUTROOT/compile-failures" ]; then
    _bad "compile failed for $(wc -l <"$OUTROOT/compile-failures") bundles:"
    head -n 5 "$OUTROOT/compile-failures"
    while read -r n _; do head -c 400 "$OUTROOT/$n.compile-err"; done < <(head -n 3 "$OUTROOT/compile-failures")
  fi
else
  if [ -s "$RT/units-$OVM_SYSTEMD/compile-failures" ]; then
    _bad "compile failed on the host for $(wc -l <"$RT/units-$OVM_SYSTEMD/compile-failures") bundles:"
    head -n 5 "$RT/units-$OVM_SYSTEMD/compile-failures"
  fi
  cp "$RT/units-$OVM_SYSTEMD"/*.service "$DEV_UNITS/" 2>/dev/null
  chown dev:dev "$DEV_UNITS"/*.service
  note "copied ${#names[@]} units compiled on the host for systemd $OVM_SYSTEMD"
fi
units=()
for n in "${names[@]}"; do
  [ -f "$DEV_UNITS/$n.service" ] && units+=("$n.service")
done

t0=$SECONDS
v=$(as_dev systemd-analyze --user verify "${units[@]/#/$DEV_UNITS/}" 2>&1)
expect_empty "systemd-analyze --user verify of ${#units[@]} units" "$v"
note "verified in $((SECONDS - t0))s"

t0=$SECONDS
usys daemon-reload
# Start them in batches of 50, without waiting for each job.
for ((i = 0; i < ${#units[@]}; i += 50)); do
  usys start --no-block "${units[@]:i:50}" 2>&1 | head -n 20
done
# Wait for every payload's "done" file (or a failed unit).
for ((w = 0; w < 600; w++)); do
  missing=0
  for n in "${names[@]}"; do [ -e "$OUTROOT/$n/done" ] || missing=$((missing + 1)); done
  [ "$missing" -gt 0 ] || break
  sleep 0.5
done
note "started ${#units[@]} units, payloads done in $((SECONDS - t0))s ($missing missing)"

# Compare, byte for byte (bash reads NUL-separated strings exactly).
t0=$SECONDS
export LC_ALL=C
bad=0 good=0
for n in "${names[@]}"; do
  d=$OUTROOT/$n
  if [ ! -e "$d/done" ]; then
    bad=$((bad + 1))
    _bad "$n: the payload did not run (unit state: $(unit_prop "$n.service" ActiveState)/$(unit_prop "$n.service" Result), exit $(unit_prop "$n.service" ExecMainStatus))"
    note_unit "$n.service"
    cp "$DEV_UNITS/$n.service" "$RT/$n/config.json" "$OVM_OUT/units/" 2>/dev/null
    continue
  fi
  mapfile -d '' want <"$RT/$n/expect.argv"
  mapfile -d '' got <"$d/argv"
  ok=1
  if [ "${#want[@]}" != "${#got[@]}" ]; then
    ok=0; why="argc: expected ${#want[@]}, got ${#got[@]}"
  else
    for ((k = 0; k < ${#want[@]}; k++)); do
      if [ "${want[k]}" != "${got[k]}" ]; then
        ok=0; why="argv[$k]: expected $(printf %q "${want[k]}"), got $(printf %q "${got[k]}")"
        break
      fi
    done
  fi
  if [ "$ok" = 1 ]; then
    mapfile -d '' wenv <"$RT/$n/expect.env"
    mapfile -d '' genv <"$d/env"
    unset seen
    declare -A seen=()
    for e in "${wenv[@]}"; do seen[$e]=1; done
    if [ "${#wenv[@]}" != "${#genv[@]}" ]; then
      ok=0; why="environment: expected ${#wenv[@]} variables, got ${#genv[@]}: $(printf '%q ' "${genv[@]}")"
    else
      for e in "${genv[@]}"; do
        if [ -z "${seen[$e]+x}" ]; then
          ok=0; why="environment: unexpected $(printf %q "$e"); expected: $(printf '%q ' "${wenv[@]}")"
          break
        fi
      done
    fi
  fi
  if [ "$ok" = 1 ]; then
    good=$((good + 1))
  else
    bad=$((bad + 1))
    _bad "$n (seed $seed): $why"
    note_unit "$n.service"
    cp "$DEV_UNITS/$n.service" "$OVM_OUT/units/" 2>/dev/null
    cp "$RT/$n/config.json" "$OVM_OUT/units/$n.config.json" 2>/dev/null
  fi
done
note "compared in $((SECONDS - t0))s"
expect_eq "bundles whose argv and environment arrived byte for byte (seed $seed)" "${#names[@]}" "$good"

# Clean up (the next cases reload the manager too).
t0=$SECONDS
# (The payloads have exited: no stop needed, only forget the failed ones.)
usys reset-failed >/dev/null 2>&1
rm -f "${units[@]/#/$DEV_UNITS/}"
usys daemon-reload
note "cleaned up in $((SECONDS - t0))s"
