# package: dpkg -i the .deb; the generator turns declared bundles into units (user and system, good, broken, enabled); man, completion; dpkg -r leaves nothing
# suites: bookworm trixie
# variants: full
# timeout: 300
# reboot: yes
# The .deb is built on the host by tests/vm/run (`.ci/demo deb`: cargo deb of the
# suite's static build) into $OVM_FILES/ociunit.deb. Everything up to the removal runs in the first boot;
# then the guest reboots (the .deb, the bundles and the enable files stay on
# the root disk) and the case runs again from the top with `rebooted` true: the
# generators run at boot, and the enabled units must have been started by
# dev's lingering user manager (default.target) and by the system manager
# (multi-user.target), their payloads writing their memory.max again. Then
# dpkg -r.
deb=$OVM_FILES/ociunit.deb
if [ ! -f "$deb" ]; then
  if in_ci; then case_fail "no $deb (tests/vm/run builds it with cargo deb)"; fi
  case_skip "no $deb (install cargo-deb on the host: cargo install cargo-deb --version 3.8.0 --locked)"
fi

user_bundles=/home/dev/.config/ociunit/bundles
sys_bundles=/etc/ociunit/bundles
user_gen=/run/user/1000/systemd/generator
sys_gen=/run/systemd/generator
out=$OVM_WORK/user.txt
# The bundle gives root no capabilities, so not CAP_DAC_OVERRIDE for dev's
# directory; and not /run, which the reboot empties.
sout=/var/lib/ovm-pkg/sys.txt
# The image's dpkg leaves out man pages and docs (mmdebstrap --dpkgopt): a
# fresh Debian does not, so neither does this case; dpkg skips a file named
# *.ovm there.
dpkg_cfg_d=/etc/dpkg/dpkg.cfg.d
cleanup() {
  usys stop ovm-pkg.service ovm-pkg-bad.service >/dev/null 2>&1
  systemctl stop ovm-pkg-sys.service >/dev/null 2>&1
  systemctl reset-failed ovm-pkg-sys-bad.service >/dev/null 2>&1
  rm -rf /home/dev/.config/ociunit /etc/ociunit "${sout%/*}"
  dpkg --purge ociunit >/dev/null 2>&1
  usys daemon-reload
  systemctl daemon-reload
  local f
  for f in "$dpkg_cfg_d"/*.ovm; do [ ! -f "$f" ] || mv "$f" "${f%.ovm}"; done
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
note_unit ovm-pkg.service ovm-pkg-bad.service ovm-pkg-sys.service ovm-pkg-sys-bad.service
if ! rebooted; then
  for f in $(grep -l '^path-exclude' "$dpkg_cfg_d"/* 2>/dev/null); do mv "$f" "$f.ovm"; done

  expect_rc "dpkg -i" 0 dpkg -i "$deb"
  expect_eq "the package is installed" "install ok installed" "$(dpkg-query -W -f '${Status}' ociunit 2>&1)"
  note "dpkg -L: $(dpkg -L ociunit | wc -l) paths"
  for p in /usr/bin/ociunit /usr/bin/ociunit-launch /usr/share/man/man1/ociunit.1.gz \
    /usr/share/bash-completion/completions/ociunit /usr/share/zsh/vendor-completions/_ociunit \
    /usr/share/fish/vendor_completions.d/ociunit.fish /usr/share/doc/ociunit/README.md; do
    check "$p is installed" test -f "$p"
  done
  for g in /usr/lib/systemd/system-generators /usr/lib/systemd/user-generators; do
    expect_eq "$g/ociunit-generator" /usr/bin/ociunit "$(readlink -f "$g/ociunit-generator")"
  done

  # --- the user manager -------------------------------------------------------
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

  # --- the system manager -------------------------------------------------------
  mkdir -p "${sout%/*}" "$sys_bundles/ovm-pkg-sys" "$sys_bundles/ovm-pkg-sys-bad"
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

  # --- man and completion ----------------------------------------------------
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

  # --- the reboot --------------------------------------------------------------
  # The new dumps must be the payloads' after the boot.
  rm -f "$out" "$sout"
  reboot_guest
fi

# --- after the reboot -----------------------------------------------------------
# The generators ran at boot (/run is new), their wants links pulled the
# enabled units into the managers' boot, and nothing else started them.
check "the boot's user generator wrote ovm-pkg.service" test -f "$user_gen/ovm-pkg.service"
check "the boot's system generator wrote ovm-pkg-sys.service" test -f "$sys_gen/ovm-pkg-sys.service"
wait_file "$out" 90 || _bad "the enabled user unit did not run after the reboot"
expect_eq "memory.max of the payload after the reboot" 999997440 "$(kv "$out" memory.max)"
expect_eq "ovm-pkg after the reboot" active "$(usys is-active ovm-pkg.service 2>&1)"
expect_match "ovm-pkg is wanted by" '(^| )default\.target( |$)' "$(unit_prop ovm-pkg.service WantedBy)"
wait_file "$sout" 90 || _bad "the enabled system unit did not run after the reboot"
expect_eq "memory.max of the system payload after the reboot" 999997440 "$(kv "$sout" memory.max)"
expect_eq "ovm-pkg-sys after the reboot" active "$(systemctl is-active ovm-pkg-sys.service 2>&1)"
expect_match "ovm-pkg-sys is wanted by" '(^| )multi-user\.target( |$)' \
  "$(systemctl show -P WantedBy ovm-pkg-sys.service 2>&1)"

# --- removal --------------------------------------------------------------------
mapfile -t owned < <(dpkg -L ociunit)
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
