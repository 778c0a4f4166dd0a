# security: capabilities, user namespaces, seccomp and labels reach the payload as the bundle asks, never more
# suites: bookworm trixie
# variants: full
# timeout: 420
need_ociunit

# The payloads record their own credentials (ovm-secdump), as whichever user the unit gives
# them, into /tmp/ovm-sec. uid 1001 and the groups 1001 and 1002 must exist for systemd to
# accept User=1001 (it refuses numeric IDs without an entry: 217/USER).
D=/tmp/ovm-sec
rm -rf "$D"
mkdir -m 1777 "$D"
grep -q '^ovmsec:' /etc/passwd || echo 'ovmsec:x:1001:1001::/nonexistent:/usr/sbin/nologin' >>/etc/passwd
grep -q '^ovmsec:' /etc/group || echo 'ovmsec:x:1001:' >>/etc/group
grep -q '^ovmsec2:' /etc/group || echo 'ovmsec2:x:1002:' >>/etc/group
cat >/usr/local/libexec/ovm-secdump <<'EOF'
#!/bin/sh
# ovm-secdump OUT [CMD...]: this process's credentials, then CMD's exit status and messages.
out=$1
shift
{
  grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
  if [ $# -gt 0 ]; then
    err=$("$@" 2>&1)
    echo "rc=$?"
    echo "err=$err"
  fi
} >"$out.tmp" && mv "$out.tmp" "$out"
EOF
chmod 755 /usr/local/libexec/ovm-secdump

# st FILE KEY: the first field of a /proc/PID/status line (or of rc=, err=)
st() { sed -n "s/^$2[:=][[:space:]]*//p" "$1" | head -n1 | cut -f1 | sed 's/ *$//'; }

# sec_bundle NAME USER PROCESS-EXTRA LINUX [CMD...]: a bundle whose payload dumps into $D/NAME
sec_bundle() {
  local name=$1 user=$2 extra=$3 linux=$4 args
  shift 4
  args="\"/usr/local/libexec/ovm-secdump\", \"$D/$name\""
  for a in "$@"; do args="$args, \"$a\""; done
  bundle "$OVM_WORK/$name" "{
  \"ociVersion\": \"1.0.2-dev\",
  \"process\": {\"user\": $user, \"cwd\": \"/\", \"args\": [$args],
    \"env\": [\"PATH=/usr/bin:/bin\"] $extra},
  \"linux\": $linux
}"
}

# system_unit NAME [ARGS...]: compile as dev with --system, install as root, start, wait for
# the payload's dump
system_unit() {
  local name=$1 rc=0
  shift
  note_unit "$name.service"
  as_dev ociunit compile "$OVM_WORK/$name" --system -o "$OVM_WORK/$name.service" "$@" \
    2>"$OVM_OUT/compile-$name.err" || rc=$?
  if [ "$rc" != 0 ]; then
    _bad "$name: ociunit compile --system -> exit $rc: $(head -c 600 "$OVM_OUT/compile-$name.err")"
    return 1
  fi
  cp "$OVM_WORK/$name.service" "$OVM_OUT/" 2>/dev/null
  install -m 644 "$OVM_WORK/$name.service" "/etc/systemd/system/$name.service"
  systemctl daemon-reload
  systemctl start "$name.service" || _bad "$name: systemctl start failed"
  wait_file "$D/$name" 30 || _bad "$name: the payload wrote no $D/$name"
}

ROOT='{"uid": 0, "gid": 0}'
RUNC_CAPS='["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]'
RUNC_SETS="\"capabilities\": {\"bounding\": $RUNC_CAPS, \"effective\": $RUNC_CAPS,
  \"permitted\": $RUNC_CAPS, \"ambient\": $RUNC_CAPS}, \"noNewPrivileges\": true"
MAP1000='[{"containerID": 0, "hostID": 1000, "size": 1}]'
# CAP_KILL | CAP_NET_BIND_SERVICE | CAP_AUDIT_WRITE
THREE=0000000020000420
NONE=0000000000000000

# runc spec as a system unit: root with exactly its three capabilities.
sec_bundle runc "$ROOT" "$(printf ', %s' "$RUNC_SETS")" '{"namespaces": [{"type": "pid"}]}'
system_unit runc
f=$D/runc
expect_eq "runc spec: Uid" 0 "$(st "$f" Uid)"
expect_eq "runc spec: CapBnd (exactly the 3)" "$THREE" "$(st "$f" CapBnd)"
expect_eq "runc spec: CapEff" "$THREE" "$(st "$f" CapEff)"
expect_eq "runc spec: CapAmb" "$NONE" "$(st "$f" CapAmb)"
expect_eq "runc spec: NoNewPrivs" 1 "$(st "$f" NoNewPrivs)"

# runc spec --rootless as a system unit: container root is host uid 1000, with no host
# capabilities.
sec_bundle rootless "$ROOT" "$(printf ', %s' "$RUNC_SETS")" "{\"namespaces\": [{\"type\": \"user\"}],
  \"uidMappings\": $MAP1000, \"gidMappings\": $MAP1000}"
system_unit rootless
f=$D/rootless
expect_eq "rootless 0 -> 1000: Uid" "1000" "$(st "$f" Uid)"
expect_eq "rootless 0 -> 1000: Gid" "1000" "$(st "$f" Gid)"
expect_eq "rootless: CapBnd" "$NONE" "$(st "$f" CapBnd)"
expect_eq "rootless: CapEff" "$NONE" "$(st "$f" CapEff)"

# Container uid 1 mapped to host 1001, gids 1-2 to 1001-1002.
sec_bundle map1001 '{"uid": 1, "gid": 1, "additionalGids": [2]}' '' '{
  "uidMappings": [{"containerID": 1, "hostID": 1001, "size": 1}],
  "gidMappings": [{"containerID": 1, "hostID": 1001, "size": 2}]}'
system_unit map1001
f=$D/map1001
expect_eq "mapping 1 -> 1001: Uid" 1001 "$(st "$f" Uid)"
expect_eq "mapping 1 -> 1001: Gid" 1001 "$(st "$f" Gid)"
# systemd initialises the groups from the group database (initgroups: the primary group 1001,
# ovmsec is a member of nothing) and adds SupplementaryGroups=.
expect_eq "mapping 2 -> 1002: Groups" "1001 1002" "$(st "$f" Groups)"
expect_eq "mapping: CapBnd" "$NONE" "$(st "$f" CapBnd)"

# A non-root payload gets the usable ambient set (ambient ∩ permitted ∩ inheritable ∩
# bounding) and no more.
sec_bundle ambient '{"uid": 1000, "gid": 1000}' ', "capabilities": {
  "bounding": ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_KILL"],
  "permitted": ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
  "inheritable": ["CAP_NET_BIND_SERVICE"],
  "ambient": ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]}' '{}'
system_unit ambient
f=$D/ambient
expect_eq "ambient: Uid" 1000 "$(st "$f" Uid)"
expect_eq "ambient: CapBnd (KILL, NET_BIND_SERVICE, NET_RAW)" 0000000000002420 "$(st "$f" CapBnd)"
expect_eq "ambient: CapAmb (NET_BIND_SERVICE)" 0000000000000400 "$(st "$f" CapAmb)"
expect_eq "ambient: CapEff" 0000000000000400 "$(st "$f" CapEff)"

# A seccomp deny list: the denied calls fail with the bundle's errno (30, EROFS).
DENY='{"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [{"names": ["chmod", "fchmod", "fchmodat", "fchmodat2"],
    "action": "SCMP_ACT_ERRNO", "errnoRet": 30}]}}'
sec_bundle deny "$ROOT" '' "$DENY" chmod 600 "$D/deny-target"
touch "$D/deny-target"
system_unit deny
f=$D/deny
expect_eq "deny list: Seccomp" 2 "$(st "$f" Seccomp)"
expect_eq "deny list: chmod's exit status" 1 "$(st "$f" rc)"
expect_match "deny list: chmod fails with errno 30" 'Read-only file system' "$(st "$f" err)"

# A seccomp allow list of every call but the sleeping ones, which are in systemd's implicit
# @default set: sleep must fail with the bundle's errno, so the unit did take @default away.
allowed=() seen=" "
expand() {
  local entry
  while read -r entry; do
    case $entry in
      ''|'#'*|"$1") ;;
      @*) expand "$entry" ;;
      nanosleep|clock_nanosleep|clock_nanosleep_time64) ;;
      *) [[ $seen == *" $entry "* ]] || { allowed+=("\"$entry\""); seen+="$entry "; } ;;
    esac
  done < <(systemd-analyze syscall-filter "$1" 2>/dev/null)
}
expand @known
note "allow list: ${#allowed[@]} calls"
names=$(IFS=,; echo "${allowed[*]}")
ALLOW="{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\",
  \"syscalls\": [{\"names\": [$names], \"action\": \"SCMP_ACT_ALLOW\"}]}}"
sec_bundle allow "$ROOT" '' "$ALLOW" sleep 0.1
system_unit allow
f=$D/allow
expect_eq "allow list: Seccomp" 2 "$(st "$f" Seccomp)"
expect_eq "allow list: sleep's exit status" 1 "$(st "$f" rc)"
expect_match "allow list: nanosleep (in @default) fails with EPERM" 'Operation not permitted' "$(st "$f" err)"
check "allow list: the unit removes @default" grep -qx 'SystemCallFilter=~@default' "$OVM_WORK/allow.service"

# The user manager: it can neither shrink the bounding set nor grant capabilities
# (CapabilityBoundingSet= and AmbientCapabilities= fail a user unit with 218/CAPABILITIES), so
# the unit carries neither and starts; the payload runs as dev without capabilities.
sec_bundle user-rootless "$ROOT" "$(printf ', %s' "$RUNC_SETS")" "{\"namespaces\": [{\"type\": \"user\"}],
  \"uidMappings\": $MAP1000, \"gidMappings\": $MAP1000}"
compile_user "$OVM_WORK/user-rootless" user-rootless.service || case_fail "compile --user failed"
check "user unit: no CapabilityBoundingSet=" bash -c "! grep -q '^CapabilityBoundingSet=' '$DEV_UNITS/user-rootless.service'"
usys daemon-reload
usys start user-rootless.service || _bad "user-rootless: start failed"
wait_file "$D/user-rootless" 30 || _bad "user-rootless: the payload wrote nothing"
f=$D/user-rootless
expect_eq "user unit: Uid" 1000 "$(st "$f" Uid)"
expect_eq "user unit: CapEff" "$NONE" "$(st "$f" CapEff)"
expect_eq "user unit: CapAmb" "$NONE" "$(st "$f" CapAmb)"
expect_eq "user unit: NoNewPrivs" 1 "$(st "$f" NoNewPrivs)"
expect_ne "user unit: not 218/CAPABILITIES" 218 "$(unit_prop user-rootless.service ExecMainStatus)"
compile_user "$OVM_WORK/ambient" user-ambient.service || _bad "compile --user of the ambient bundle"
expect_match "user unit: the ambient set is dropped with the reason" 'cannot grant capabilities' \
  "$(cat "$OVM_OUT/compile-user-ambient.service.err")"
expect_rc "user unit: --strict refuses the ambient set" 2 \
  as_dev ociunit compile "$OVM_WORK/ambient" --user --strict -o "$OVM_WORK/strict.service"
# seccomp works in user units (systemd adds no_new_privs there).
sec_bundle user-deny "$ROOT" '' "$DENY" chmod 600 "$D/deny-target"
compile_user "$OVM_WORK/user-deny" user-deny.service || _bad "compile --user of the deny list"
usys daemon-reload
usys start user-deny.service || _bad "user-deny: start failed"
wait_file "$D/user-deny" 30 || _bad "user-deny: the payload wrote nothing"
expect_match "user unit deny list: errno 30" 'Read-only file system' "$(st "$D/user-deny" err)"

# ociunit run --scope: this process runs the payload, so the launcher drops the bounding set
# itself; what it cannot apply (User=, a filter) makes run refuse the bundle.
sec_bundle scope "$ROOT" "$(printf ', %s' "$RUNC_SETS")" '{}'
rc=0
ociunit run --scope --system --quiet "$OVM_WORK/scope" >"$OVM_OUT/scope.out" 2>&1 || rc=$?
expect_eq "run --scope: exit status" 0 "$rc"
expect_eq "run --scope: CapBnd (the launcher dropped the rest)" "$THREE" "$(st "$D/scope" CapBnd)"
expect_eq "run --scope: CapEff" "$THREE" "$(st "$D/scope" CapEff)"
rc=0
ociunit run --scope --system "$OVM_WORK/map1001" >"$OVM_OUT/scope-user.out" 2>&1 || rc=$?
expect_eq "run --scope with User=1001: refused" 2 "$rc"
expect_match "run --scope with User=1001: says why" 'User=1001 cannot apply to a scope.*use --service' \
  "$(cat "$OVM_OUT/scope-user.out")"

# ociunit run --service: the same properties over D-Bus ((bas), i, as, t; SELinuxContext s,
# AppArmorProfile (bs)) are accepted and applied.
rm -f "$D/deny"
rc=0
ociunit run --service --system --wait --quiet --collect "$OVM_WORK/deny" >"$OVM_OUT/run-deny.out" 2>&1 || rc=$?
expect_eq "run --service deny list: exit status" 0 "$rc"
expect_match "run --service deny list: errno 30" 'Read-only file system' "$(st "$D/deny" err)"
rm -f "$D/allow"
rc=0
ociunit run --service --system --wait --quiet --collect "$OVM_WORK/allow" >"$OVM_OUT/run-allow.out" 2>&1 || rc=$?
expect_eq "run --service allow list: exit status" 0 "$rc"
expect_match "run --service allow list: @default taken away over D-Bus too" 'Operation not permitted' \
  "$(st "$D/allow" err)"
rm -f "$D/runc"
rc=0
ociunit run --service --system --wait --quiet --collect "$OVM_WORK/runc" >"$OVM_OUT/run-runc.out" 2>&1 || rc=$?
expect_eq "run --service runc spec: exit status" 0 "$rc"
expect_eq "run --service runc spec: CapBnd" "$THREE" "$(st "$D/runc" CapBnd)"
sec_bundle selinux "$ROOT" ', "selinuxLabel": "system_u:system_r:container_t:s0"' '{}'
rc=0
ociunit run --service --system --wait --quiet --collect "$OVM_WORK/selinux" >"$OVM_OUT/run-selinux.out" 2>&1 || rc=$?
# SELinux is off in the guest, so systemd ignores the context; the call must be accepted.
expect_eq "run --service SELinuxContext (s): accepted" 0 "$rc"
sec_bundle apparmor "$ROOT" ', "apparmorProfile": "ociunit-no-such-profile"' '{}'
rc=0
ociunit run --service --system --wait --quiet --collect "$OVM_WORK/apparmor" >"$OVM_OUT/run-apparmor.out" 2>&1 || rc=$?
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
  # A profile that is not loaded fails the unit (231/APPARMOR) rather than running unconfined;
  # with Type=exec that is a failed start job.
  expect_eq "run --service AppArmorProfile (bs): missing profile, the start fails" 1 "$rc"
  expect_match "run --service AppArmorProfile: the start job failed" 'start job ended with "failed"' \
    "$(cat "$OVM_OUT/run-apparmor.out")"
  journalctl --sync 2>/dev/null
  expect_match "run --service AppArmorProfile: 231/APPARMOR" 'Failed at step APPARMOR' \
    "$(journalctl -b -q -o cat 2>/dev/null | grep -F 'step APPARMOR' | tail -n 3)"
  check "run --service AppArmorProfile: the payload did not run" test ! -e "$D/apparmor"
else
  expect_eq "run --service AppArmorProfile (bs): accepted (AppArmor off)" 0 "$rc"
fi

for u in runc rootless map1001 ambient deny allow; do
  systemctl stop "$u.service" 2>/dev/null
  rm -f "/etc/systemd/system/$u.service"
done
systemctl daemon-reload
