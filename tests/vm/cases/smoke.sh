# smoke: the harness itself - cgroup v2, dev's delegated controllers, MemoryMax via systemd-run
# suites: bookworm trixie
# variants: full stock
# timeout: 60

expect_eq "PID 1" systemd "$(cat /proc/1/comm)"
expect_eq "/sys/fs/cgroup" cgroup2fs "$(stat -fc %T /sys/fs/cgroup)"
expect_eq "user@1000.service" active "$(systemctl is-active user@1000.service)"
case $OVM_VARIANT in
  full) want="cpuset cpu io memory pids" ;;
  stock) want="cpu memory pids" ;;
esac
expect_eq "controllers delegated to dev ($OVM_VARIANT)" "$want" \
  "$(cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers)"
expect_eq "systemd major version for $OVM_SUITE" \
  "$(case $OVM_SUITE in bookworm) echo 252 ;; trixie) echo 257 ;; esac)" "$OVM_SYSTEMD"
# The testbed README's one-liner, as dev from the case's cgroup.
got=$(as_dev systemd-run --user --scope --quiet -p Delegate=yes -p MemoryMax=1000000000 \
  sh -c 'cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max' 2>/dev/null)
expect_eq "memory.max of a MemoryMax=1000000000 scope" 999997440 "$got"
expect_eq "whoami as_dev" dev "$(as_dev whoami)"
if [ -f "$OVM_FILES/bin/ociunit-launch" ]; then
  check "ociunit-launch installed as /usr/libexec/ociunit-launch" test -x /usr/libexec/ociunit-launch
fi
