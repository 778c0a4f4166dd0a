# package: dpkg -i the .deb; the generator turns declared bundles into units (user and system, good, broken, enabled); man, completion; dpkg -r leaves nothing
# suites: bookworm trixie
# variants: full
# timeout: 300
# The .deb is built on the host by tests/vm/run (cargo deb --no-build) into
# $OVM_FILES/ociunit.deb. The harness boots each machine once, so a guest reboot
# is not checked: restarting dev's lingering user manager stands in for it (the
# generator runs again and default.target starts the enabled unit).
deb=$OVM_FILES/ociunit.deb
if [ ! -f "$deb" ]; then
  if in_ci; then case_fail "no $deb (tests/vm/run builds it with cargo deb)"; fi
  case_skip "no $deb (install cargo-deb on the host: cargo install cargo-deb)"
fi

user_bundles=/home/dev/.config/ociunit/bundles
sys_bundles=/etc/ociunit/bundles
user_gen=/run/user/1000/systemd/generator
sys_gen=/run/systemd/generator
# The image's dpkg leaves out man pages and docs (mmdebstrap --dpkgopt): a
# fresh Debian does not, so neither does this case.
dpkg_cfg=$(grep -l '^path-exclude' /etc/dpkg/dpkg.cfg.d/* 2>/dev/null || true)
cleanup() {
  usys stop ovm-pkg.service ovm-pkg-bad.service >/dev/null 2>&1
  systemctl stop ovm-pkg-sys.service >/dev/null 2>&1
  systemctl reset-failed ovm-pkg-sys-bad.service >/dev/null 2>&1
  rm -rf /home/dev/.config/ociunit /etc/ociunit /run/ovm-pkg
  dpkg --purge ociunit >/dev/null 2>&1
  usys daemon-reload
  systemctl daemon-reload
  local f
  for f in $dpkg_cfg; do [ ! -f "$f.ovm" ] || mv "$f.ovm" "$f"; done
}
trap cleanup EXIT
# journal_of MATCH: the unit's messages, once journald has them (a few seconds)
journal_of() {
  local i text
  for ((i = 0; i < 10; i++)); do
    text=$(journalctl -b --no-pager -q -o cat "$1" 2>/dev/null)
    [[ $text == *"does not compile"* ]] && break
    sleep 0.5
  done
  printf '%s\n' "$text"
}
for f in $dpkg_cfg; do mv "$f" "$f.ovm"; done
note_unit ovm-pkg.service ovm-pkg-bad.service ovm-pkg-sys.service ovm-pkg-sys-bad.service

expect_rc "dpkg -i" 0 dpkg -i "$deb"
expect_eq "the package is installed" "install ok installed" "$(dpkg-query -W -f '${Status}' ociunit 2>&1)"
mapfile -t owned < <(dpkg -L ociunit)
note "dpkg -L: ${#owned[@]} paths"
for p in /usr/bin/ociunit /usr/bin/ociunit-launch /usr/share/man/man1/ociunit.1.gz \
  /usr/share/bash-completion/completions/ociunit /usr/share/zsh/vendor-completions/_ociunit \
  /usr/share/fish/vendor_completions.d/ociunit.fish /usr/share/doc/ociunit/README.md; do
  check "$p is installed" test -f "$p"
done
for g in /usr/lib/systemd/system-generators /usr/lib/systemd/user-generators; do
  expect_eq "$g/ociunit-generator" /usr/bin/ociunit "$(readlink -f "$g/ociunit-generator")"
done

# --- the user manager ---------------------------------------------------------
out=$OVM_WORK/user.txt
bundle "$OVM_WORK/ovm-pkg" "$(limits_bundle_json "$out" '{"memory": {"limit": 1000000000}, "pids": {"limit": 77}}')"
bundle "$OVM_WORK/ovm-pkg-bad" '{"ociVersion": "1.0.2", "process": {"args": ["/bin/true"], "cwd": "/"}, "root": {"path": "/"}, "linux": {"resources": {"pids": {}}}}'
as_dev touch "$OVM_WORK/ovm-pkg/enable"
as_dev mkdir -p "$user_bundles"
as_dev ln -s "$OVM_WORK/ovm-pkg" "$user_bundles/ovm-pkg"
as_dev ln -s "$OVM_WORK/ovm-pkg-bad" "$user_bundles/ovm-pkg-bad"
expect_rc "systemctl --user daemon-reload" 0 usys daemon-reload
check "the generator wrote ovm-pkg.service" test -f "$user_gen/ovm-pkg.service"
cp "$user_gen/ovm-pkg.service" "$user_gen/ovm-pkg-bad.service" "$OVM_OUT/" 2>/dev/null
expect_eq "the unit is loaded from the generator" "$user_gen/ovm-pkg.service" "$(unit_prop ovm-pkg.service FragmentPath)"
expect_match "ExecStart is the packaged launcher" '^/usr/bin/ociunit-launch ' "$(grep -m1 '^ExecStart=' "$user_gen/ovm-pkg.service" | cut -d= -f2-)"
expect_eq "enable: the wants link" "$user_gen/ovm-pkg.service" \
  "$(readlink -f "$user_gen/default.target.wants/ovm-pkg.service")"
note "is-enabled ovm-pkg: $(usys is-enabled ovm-pkg.service 2>&1)"
check "no wants link without enable" test ! -e "$user_gen/default.target.wants/ovm-pkg-bad.service"
expect_rc "start ovm-pkg" 0 usys start ovm-pkg.service
wait_file "$out" 60 || _bad "the payload did not write $out"
expect_eq "memory.max of the payload" 999997440 "$(kv "$out" memory.max)"
expect_eq "pids.max of the payload" 77 "$(kv "$out" pids.max)"
expect_eq "MemoryMax on the unit" 1000000000 "$(unit_prop ovm-pkg.service MemoryMax)"

rc=0
usys start ovm-pkg-bad.service 2>/dev/null || rc=$?
expect_ne "start of the broken bundle fails" 0 "$rc"
status=$(usys status --no-pager -l -n 20 ovm-pkg-bad.service 2>&1)
printf '%s\n' "$status" | sed 's/^/    | /'
# The description carries the first message, so status shows it even where dev
# may not read the journal (this image's journal is volatile: no per-user files).
expect_match "status has the compiler's message" 'does not compile: .*linux\.resources\.pids\.limit: missing' "$status"
expect_match "the journal has it" 'linux\.resources\.pids\.limit: missing' \
  "$(journal_of _SYSTEMD_USER_UNIT=ovm-pkg-bad.service)"
dry=$(as_dev /usr/bin/ociunit generate --dry-run --user 2>&1)
rc=$?
expect_eq "generate --dry-run --user exit status" 2 "$rc"
expect_match "generate --dry-run names the error" 'pids\.limit: missing' "$dry"
gj=$(as_dev /usr/bin/ociunit generate --dry-run --user --json 2>/dev/null)
rc=$?
expect_eq "generate --dry-run --json exit status" 2 "$rc"
expect_match "generate --json: the broken bundle's unit" '"unit": "ovm-pkg-bad.service",' "$gj"
sj=$(as_dev /usr/bin/ociunit status ovm-pkg --json 2>&1)
printf '%s\n' "$sj" >"$OVM_OUT/status.json"
expect_match "status --json format" '"format": "ociunit-status/1"' "$sj"
expect_match "status --json: MemoryMax" '"name": "MemoryMax",[[:space:]]*"value": "1000000000"' "$sj"
expect_match "status --json: the payload's memory.max" '"file": "memory.max",[[:space:]]*"value": "999997440"' "$sj"

# The enabled unit runs again when the manager starts again: restart dev's
# lingering manager, which runs the generator and starts default.target as at
# boot, and wait for the payload's new dump.
rm -f "$out"
expect_rc "systemctl restart user@1000.service" 0 systemctl restart user@1000.service
for ((i = 0; i < 600; i++)); do
  [ -S /run/user/1000/bus ] && [ "$(systemctl is-active user@1000.service)" = active ] && break
  sleep 0.1
done
wait_file "$out" 90 || _bad "the enabled unit did not run again after the manager restarted"
expect_eq "memory.max of the payload after the restart" 999997440 "$(kv "$out" memory.max)"
expect_eq "ovm-pkg after the restart" active "$(usys is-active ovm-pkg.service 2>&1)"

# --- the system manager ---------------------------------------------------------
# The bundle gives root no capabilities, so not CAP_DAC_OVERRIDE for dev's directory.
sout=/run/ovm-pkg/sys.txt
mkdir -p /run/ovm-pkg "$sys_bundles/ovm-pkg-sys" "$sys_bundles/ovm-pkg-sys-bad"
limits_bundle_json "$sout" '{"memory": {"limit": 1000000000}, "pids": {"limit": 55}}' >"$sys_bundles/ovm-pkg-sys/config.json"
cp "$OVM_WORK/ovm-pkg-bad/config.json" "$sys_bundles/ovm-pkg-sys-bad/config.json"
echo multi-user.target >"$sys_bundles/ovm-pkg-sys/enable"
expect_rc "systemctl daemon-reload" 0 systemctl daemon-reload
check "the system generator wrote ovm-pkg-sys.service" test -f "$sys_gen/ovm-pkg-sys.service"
expect_eq "enable: the system wants link" "$sys_gen/ovm-pkg-sys.service" \
  "$(readlink -f "$sys_gen/multi-user.target.wants/ovm-pkg-sys.service")"
expect_rc "start ovm-pkg-sys" 0 systemctl start ovm-pkg-sys.service
wait_file "$sout" 60 || _bad "the payload did not write $sout"
expect_eq "memory.max of the system payload" 999997440 "$(kv "$sout" memory.max)"
expect_eq "pids.max of the system payload" 55 "$(kv "$sout" pids.max)"
rc=0
systemctl start ovm-pkg-sys-bad.service 2>/dev/null || rc=$?
expect_ne "start of the broken system bundle fails" 0 "$rc"
expect_match "system status has the compiler's message" 'linux\.resources\.pids\.limit: missing' \
  "$(systemctl status --no-pager -l -n 20 ovm-pkg-sys-bad.service 2>&1)"
expect_match "the system journal has it" 'linux\.resources\.pids\.limit: missing' \
  "$(journal_of _SYSTEMD_UNIT=ovm-pkg-sys-bad.service)"

# --- man and completion ------------------------------------------------------
if command -v man >/dev/null; then
  expect_eq "man -w ociunit" /usr/share/man/man1/ociunit.1.gz "$(as_dev man -w ociunit 2>&1)"
  expect_match "man ociunit renders" 'ociunit-generate' "$(as_dev env MANPAGER=cat COLUMNS=80 man ociunit 2>/dev/null)"
else
  _bad "man is missing from the image (man-db)"
fi
# bash-completion loads a command's completion on first use; ask its loader
# (_comp_load from 2.12, __load_completion before) as a first <TAB> would.
comp=$(as_dev bash -ic '{ _comp_load ociunit || __load_completion ociunit; } 2>/dev/null; complete -p ociunit' 2>/dev/null)
expect_match "bash -ic complete -p ociunit" '^complete .* ociunit$' "$comp"

# --- removal --------------------------------------------------------------------
systemctl stop ovm-pkg-sys.service
usys stop ovm-pkg.service
expect_rc "dpkg -r ociunit" 0 dpkg -r ociunit
left=()
for p in "${owned[@]}"; do
  if [ -L "$p" ] || [ -f "$p" ]; then
    left+=("$p")
  elif [ -d "$p" ] && ! dpkg -S "$p" >/dev/null 2>&1 && [ -z "$(ls -A "$p")" ]; then
    left+=("$p/")
  fi
done
expect_eq "files left by dpkg -r" "" "${left[*]}"
# The user's bundles and units survive removal; the next reload drops the units.
check "the declared bundles are the user's" test -L "$user_bundles/ovm-pkg"
expect_rc "systemctl --user daemon-reload after removal" 0 usys daemon-reload
check "the generated unit is gone" test ! -e "$user_gen/ovm-pkg.service"
