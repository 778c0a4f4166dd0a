# demo: the README's demo and quick start as a newcomer runs them: apt install the .deb .ci/demo builds, .ci/demo-user verbatim as dev (crun, runc) and as root prints 999997440; install, journal, review loop, generator
# suites: bookworm trixie
# variants: full stock
# timeout: 300
# The .deb is built on the host by tests/vm/run with .ci/demo's own build command (`.ci/demo
# deb`: static, non-PIE, cargo deb --target HOST) into $OVM_FILES/ociunit.deb, and
# .ci/demo-user is staged as $OVM_FILES/demo-user. The guest has no network, which is all
# .ci/demo's other steps need (apt-get update, cargo install); the packages it installs are in
# the image. tests/vm/check-readme finds the README's commands in this file: the lines that
# run them are written as the README shows them, keep them so.
deb=$OVM_FILES/ociunit.deb
user_part=$OVM_FILES/demo-user
if [ ! -f "$deb" ]; then
  if in_ci; then case_fail "no $deb (tests/vm/run builds it with .ci/demo deb)"; fi
  case_skip "no $deb (install cargo-deb on the host: cargo install cargo-deb --version 3.8.0 --locked)"
fi
[ -f "$user_part" ] || case_fail "no $user_part (tests/vm/run stages .ci/demo-user)"
for p in crun runc busybox-static; do
  dpkg-query -W "$p" >/dev/null 2>&1 || case_fail "$p is not in the image (.ci/demo installs it)"
done
note_unit demo.service
root_demo=/root/ovm-demo
journal_conf=
cleanup() {
  as_dev ociunit uninstall demo >/dev/null 2>&1
  rm -rf /home/dev/.config/ociunit /home/dev/demo "$root_demo"
  usys daemon-reload
  [ ! -f "$journal_conf" ] || { rm -f "$journal_conf"; systemctl restart systemd-journald; }
  dpkg --purge ociunit >/dev/null 2>&1
}
trap cleanup EXIT
# Root's sudo is itself: the README's sudo lines run as they are.
sudo() { "$@"; }
# dev_sh SCRIPT: SCRIPT by sh as dev in dev's home, with the packaged binaries only
# (/usr/local/bin has the suite's copies, which would come first).
dev_sh() { (cd /home/dev && as_dev env PATH=/usr/bin:/bin sh -c "$1"); }

# --- the package, as the README installs it ---------------------------------------
mkdir -p "$OVM_WORK/clone/target/debian"
cp "$deb" "$OVM_WORK/clone/target/debian/ociunit_$(dpkg-deb -f "$deb" Version)_$(dpkg-deb -f "$deb" Architecture).deb"
(
  cd "$OVM_WORK/clone" || exit 1
  sudo apt install ./target/debian/ociunit_*.deb
) >"$OVM_OUT/apt.txt" 2>&1
expect_eq "sudo apt install ./target/debian/ociunit_*.deb: exit status" 0 "$?"
expect_eq "the package is installed" "install ok installed" "$(dpkg-query -W -f '${Status}' ociunit 2>&1)"
expect_eq "ociunit is the packaged one" /usr/bin/ociunit "$(dev_sh 'command -v ociunit')"

# --- .ci/demo-user, verbatim, in dev's home, as .ci/demo runs it ----------------------
out=$(dev_sh "sh '$user_part'" 2>"$OVM_OUT/demo-user.err")
rc=$?
expect_eq "demo-user (crun): exit status" 0 "$rc"
expect_eq "demo-user (crun) prints" 999997440 "$out"
[ "$rc" = 0 ] || note "stderr: $(cat "$OVM_OUT/demo-user.err")"
cp /home/dev/demo/config.json "$OVM_OUT/demo-crun.json" 2>/dev/null
# Idempotent: again, over the bundle it made.
# (stdout: stderr has ociunit's warning that a user unit cannot enforce the spec's device rule)
expect_eq "demo-user (crun) again prints" 999997440 "$(dev_sh "sh '$user_part'" 2>>"$OVM_OUT/demo-user.err")"
expect_eq "demo-user runc prints" 999997440 "$(dev_sh "sh '$user_part' runc" 2>>"$OVM_OUT/demo-user.err")"
cp /home/dev/demo/config.json "$OVM_OUT/demo-runc.json" 2>/dev/null
expect_eq "demo-user (crun) after runc prints" 999997440 "$(dev_sh "sh '$user_part'" 2>>"$OVM_OUT/demo-user.err")"
expect_match "the warning about the device rule" 'device rules are not enforced' "$(cat "$OVM_OUT/demo-user.err")"

# --- the quick start's persistent unit --------------------------------------------------
# journalctl --user reads dev's own journal file (user-1000.journal), which journald keeps
# only on persistent storage: Debian's default (/var/log/journal), not this image's
# (Storage=volatile, tests/vm/build-image). So persistent for this part, as on a real Debian.
journal_conf=/run/systemd/journald.conf.d/zz-ovm-demo.conf
mkdir -p "${journal_conf%/*}"
printf '[Journal]\nStorage=persistent\n' >"$journal_conf"
systemctl restart systemd-journald && journalctl --flush
dev_sh '
ociunit install demo --now
' >"$OVM_OUT/install.txt" 2>&1
expect_eq "ociunit install demo --now: exit status" 0 "$?"
wait_inactive demo.service 30 || _bad "demo.service did not end"
journal=
for ((i = 0; i < 20; i++)); do
  journalctl --sync 2>/dev/null
  journal=$(dev_sh '
journalctl --user -t ociunit-launch -o cat -n 1
' 2>&1)
  [[ $journal == *999997440* ]] && break
  sleep 0.5
done
rm -f "$journal_conf"
systemctl restart systemd-journald
expect_eq "journalctl --user -t ociunit-launch -o cat -n 1" 999997440 "$journal"
note "journalctl --user -u demo -o cat: $(dev_sh 'journalctl --user -u demo -o cat' 2>&1 | tr '\n' '|')"
expect_eq "systemctl --user show -p MemoryMax demo" MemoryMax=1000000000 "$(dev_sh '
systemctl --user show -p MemoryMax demo
' 2>&1)"
expect_match "ociunit explain demo: the limit" 'memory\.limit' "$(dev_sh '
ociunit explain demo
' 2>&1)"
expect_match "ociunit run --service --wait --pipe demo" '(^|'$'\n'')999997440($|'$'\n'')' "$(dev_sh '
ociunit run --service --wait --pipe demo
' 2>/dev/null)"

# --- the review loop ------------------------------------------------------------------
# ($EDITOR demo/config.json: lower memory.limit)
as_dev sed -i 's/"limit": 1000000000/"limit": 500000000/' /home/dev/demo/config.json
rc=0
diff=$(dev_sh '
ociunit diff demo
' 2>&1) || rc=$?
expect_eq "ociunit diff demo: exit status after the edit" 1 "$rc"
expect_match "ociunit diff demo shows the new MemoryMax" '\+MemoryMax=500000000' "$diff"
dev_sh '
ociunit install demo --now
' >/dev/null 2>&1
expect_eq "install --now again: exit status" 0 "$?"
expect_eq "the new MemoryMax" 500000000 "$(unit_prop demo.service MemoryMax)"
status=$(dev_sh '
ociunit status demo
' 2>&1)
expect_eq "ociunit status demo: exit status" 0 "$?"
expect_match "ociunit status demo: MemoryMax" 'MemoryMax.*500000000' "$status"
expect_match "ociunit list: demo.service" 'demo\.service' "$(dev_sh '
ociunit list
' 2>&1)"
dev_sh '
ociunit uninstall demo
' >/dev/null 2>&1
expect_eq "ociunit uninstall demo: exit status" 0 "$?"
check "the unit file is gone" test ! -e "$DEV_UNITS/demo.service"

# --- the generator --------------------------------------------------------------------
expect_eq "demo-user remakes the bundle" 999997440 "$(dev_sh "sh '$user_part'" 2>>"$OVM_OUT/demo-user.err")"
dev_sh '
mkdir -p ~/.config/ociunit/bundles && ln -s ~/demo ~/.config/ociunit/bundles/demo
touch ~/demo/enable
systemctl --user daemon-reload && systemctl --user start demo
' >"$OVM_OUT/generator.txt" 2>&1
expect_eq "the generator block: exit status" 0 "$?"
wait_inactive demo.service 30 || _bad "the generated demo.service did not end"
expect_eq "the generated unit's result" success "$(unit_prop demo.service Result)"
expect_eq "it is the generator's" /run/user/1000/systemd/generator/demo.service "$(unit_prop demo.service FragmentPath)"
check "enable: the wants link" test -L /run/user/1000/systemd/generator/default.target.wants/demo.service
dev_sh '
ociunit generate --dry-run --user
' >"$OVM_OUT/generate-dry-run.txt" 2>&1
expect_eq "ociunit generate --dry-run --user: exit status" 0 "$?"
rm -rf /home/dev/.config/ociunit
usys daemon-reload

# --- as root (.ci/demo run by root): the same lines, under the system manager -------------
mkdir -p "$root_demo"
out=$(cd "$root_demo" && env PATH=/usr/bin:/bin sh "$user_part" 2>"$OVM_OUT/demo-user-root.err")
expect_eq "demo-user as root prints" 999997440 "$out"
[ "$out" = 999997440 ] || note "stderr: $(cat "$OVM_OUT/demo-user-root.err")"
