# demo: the README's demo as a newcomer runs it: apt-get install the .deb .ci/demo builds, then .ci/demo-user verbatim as dev (crun, then runc) and as root prints 999997440; the quick start's persistent unit
# suites: bookworm trixie
# variants: full stock
# timeout: 300
# The .deb is built on the host by tests/vm/run with .ci/demo's own build command (static,
# non-PIE, cargo deb --target HOST) into $OVM_FILES/ociunit.deb; .ci/demo-user is staged as
# $OVM_FILES/demo-user. The guest has no network, which is all .ci/demo's other steps need
# (apt-get update, cargo install): its packages are in the image. The lines below that the
# README shows are checked against it by tests/vm/check-readme: keep them verbatim.
deb=$OVM_FILES/ociunit.deb
user_part=$OVM_FILES/demo-user
if [ ! -f "$deb" ]; then
  if in_ci; then case_fail "no $deb (tests/vm/run builds it with cargo deb)"; fi
  case_skip "no $deb (install cargo-deb on the host: cargo install cargo-deb --version 3.8.0 --locked)"
fi
[ -f "$user_part" ] || case_fail "no $user_part (tests/vm/run stages .ci/demo-user)"
for p in crun runc busybox-static; do
  dpkg-query -W "$p" >/dev/null 2>&1 || case_fail "$p is not in the image (.ci/demo installs it)"
done
note_unit demo.service
home_demo=/root/ovm-demo
cleanup() {
  as_dev ociunit uninstall demo >/dev/null 2>&1
  gpasswd -d dev systemd-journal >/dev/null 2>&1
  rm -rf "$home_demo"
  dpkg --purge ociunit >/dev/null 2>&1
}
trap cleanup EXIT

# .ci/demo's install step: apt-get install of the built file (the image has the package's
# dependencies and recommends, so apt needs no network).
expect_rc "apt-get install -y --reinstall ./ociunit.deb" 0 \
  apt-get install -y --reinstall "$deb"
expect_eq "the package is installed" "install ok installed" "$(dpkg-query -W -f '${Status}' ociunit 2>&1)"

# The user part, verbatim, as dev with the packaged binaries only (/usr/local/bin has the
# suite's copies, which would come first).
dev_path=/usr/bin:/bin
expect_eq "ociunit is the packaged one" /usr/bin/ociunit "$(as_dev env PATH=$dev_path sh -c 'command -v ociunit')"
out=$(as_dev env PATH=$dev_path sh "$user_part" 2>"$OVM_OUT/demo-user.err")
rc=$?
expect_eq "demo-user (crun): exit status" 0 "$rc"
expect_eq "demo-user (crun) prints" 999997440 "$out"
[ "$rc" = 0 ] || note "stderr: $(cat "$OVM_OUT/demo-user.err")"
cp "$OVM_WORK/demo/config.json" "$OVM_OUT/demo-crun.json" 2>/dev/null
# Idempotent: again, over the bundle it made.
out=$(as_dev env PATH=$dev_path sh "$user_part" 2>&1)
expect_eq "demo-user (crun) again prints" 999997440 "$out"
out=$(as_dev env PATH=$dev_path sh "$user_part" runc 2>&1)
expect_eq "demo-user runc prints" 999997440 "$out"
cp "$OVM_WORK/demo/config.json" "$OVM_OUT/demo-runc.json" 2>/dev/null

# The quick start's persistent unit of the same bundle (crun's), as in the README.
# journalctl --user reads dev's own journal file on a Debian with the default persistent
# journal; this image's journal is volatile (one file for everyone), which the group
# systemd-journal may read.
out=$(as_dev env PATH=$dev_path sh "$user_part" 2>&1)
expect_eq "demo-user (crun) once more prints" 999997440 "$out"
usermod -aG systemd-journal dev
as_dev env PATH=$dev_path ociunit install demo --now >"$OVM_OUT/install.txt" 2>&1
expect_eq "ociunit install demo --now: exit status" 0 "$?"
wait_inactive demo.service 30 || _bad "demo.service did not end"
journal=
for ((i = 0; i < 20; i++)); do
  journalctl --sync 2>/dev/null
  journal=$(as_dev env PATH=$dev_path journalctl --user -u demo -o cat 2>&1)
  [[ $journal == *999997440* ]] && break
  sleep 0.5
done
expect_match "journalctl --user -u demo -o cat" '(^|'$'\n'')999997440($|'$'\n'')' "$journal"
expect_eq "systemctl --user show -p MemoryMax demo" MemoryMax=1000000000 \
  "$(as_dev env PATH=$dev_path systemctl --user show -p MemoryMax demo 2>&1)"
explain=$(as_dev env PATH=$dev_path ociunit explain demo 2>&1)
expect_match "ociunit explain demo: the limit" 'memory\.limit' "$explain"
out=$(as_dev env PATH=$dev_path ociunit run --service --wait --pipe demo 2>/dev/null)
expect_match "ociunit run --service --wait --pipe demo" '(^|'$'\n'')999997440($|'$'\n'')' "$out"

# As root (.ci/demo run by root): the same lines, under the system manager.
mkdir -p "$home_demo"
out=$(cd "$home_demo" && env PATH=$dev_path sh "$user_part" 2>&1)
expect_eq "demo-user as root prints" 999997440 "$out"
