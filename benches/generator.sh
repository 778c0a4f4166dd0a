#!/bin/bash
# benches/generator.sh [N] - the generator over N declared bundles (default 1000) against
# Podman's Quadlet generator over N equivalent .container files, interleaved.
#
# Each bundle is a container-mode bundle (a rootfs directory, process.args, a memory, pids and
# CPU limit), enabled by an empty `enable` file; each .container file asks Quadlet for the same
# container (Image=, Exec=, the limits through PodmanArgs= since Quadlet has no keys for them),
# and `[Install] WantedBy=default.target` for the same link in default.target.wants/. Both
# generators write into a fresh output directory per run, as systemd runs them at
# daemon-reload: ociunit as `ociunit-generator OUT OUT OUT` with the bundles directory given,
# Quadlet as `quadlet -user OUT` with QUADLET_UNIT_DIRS (and once `-dryrun`, which prints
# instead).
# Runs are interleaved (ours, theirs, ours, …), each into an emptied directory (emptying it is
# not timed: systemd does that before it runs the generators); the medians of the wall time,
# their ratio, and the medians of the CPU time (user + system, the generator's children
# included: ociunit runs `systemctl --version` and `crun --version`) are printed.
# Goal: under 100 ms for 1000 bundles, and no slower than Quadlet.
#
# Quadlet comes with Debian's podman from 4.4 on (trixie: /usr/libexec/podman/quadlet);
# bookworm's podman 4.3 has none. QUADLET=PATH names another binary, e.g. one unpacked from
# trixie's podman package: apt-get download podman (with a trixie source), dpkg-deb -x.
# Environment: RUNS (default 20 each), QUADLET, CARGO, OCIUNIT (a built ociunit to measure
# instead of building target/release/ociunit, e.g. an older one).
set -euo pipefail

cd "$(dirname "$0")/.."
n=${1:-1000}
runs=${RUNS:-20}
quadlet=${QUADLET:-/usr/libexec/podman/quadlet}
[ -x "$quadlet" ] || { echo "generator.sh: no Quadlet at $quadlet (set QUADLET=PATH)" >&2; exit 1; }
command -v crun >/dev/null || command -v runc >/dev/null ||
  { echo "generator.sh: container mode needs crun or runc installed" >&2; exit 1; }
ociunit=${OCIUNIT:-$PWD/target/release/ociunit}
[ -n "${OCIUNIT:-}" ] || "${CARGO:-cargo}" build --release --quiet --bin ociunit
work=$(mktemp -d)
# systemd gives generators directories on a tmpfs (/run): so does the benchmark.
out=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$work" "$out"' EXIT INT TERM
ln -s "$ociunit" "$work/ociunit-generator"

mkdir -p "$work/bundles" "$work/quadlet" "$work/rootfs/bin"
for ((i = 0; i < n; i++)); do
  b=$work/bundles/app$i
  mkdir -p "$b"
  ln -s ../../rootfs "$b/rootfs"
  printf '{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
  "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["cat", "/sys/fs/cgroup/memory.max"], "env": ["PATH=/bin"]},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "user"}],
            "resources": {"memory": {"limit": %d}, "pids": {"limit": 100}, "cpu": {"shares": 1024}}}}\n' \
    $((1000000000 + i * 4096)) >"$b/config.json"
  : >"$b/enable"
  printf '[Container]\nImage=localhost/demo:latest\nExec=cat /sys/fs/cgroup/memory.max\nPodmanArgs=--memory %d --pids-limit 100 --cpu-shares 1024\n\n[Install]\nWantedBy=default.target\n' \
    $((1000000000 + i * 4096)) >"$work/quadlet/app$i.container"
done
touch "$work/rootfs/bin/cat"

empty() { rm -rf "${out:?}"/*; }
ours() { "$work/ociunit-generator" --user --bundles "$work/bundles" "$out" "$out" "$out"; }
theirs() { QUADLET_UNIT_DIRS=$work/quadlet "$quadlet" -user "$out" "$out" "$out" 2>/dev/null; }

# Each writes N units and N links to them.
wrote() { [ "$(find "$out" -maxdepth 1 -type f -name '*.service' | wc -l)" = "$n" ] &&
  [ "$(find "$out/default.target.wants" -type l | wc -l)" = "$n" ]; }
empty; ours; wrote || { echo "generator.sh: ociunit did not write $n units and links" >&2; exit 1; }
empty; theirs; wrote || { echo "generator.sh: Quadlet did not write $n units and links" >&2; exit 1; }
QUADLET_UNIT_DIRS=$work/quadlet "$quadlet" -user -dryrun >/dev/null 2>&1

# One line per run: ours, then theirs, each as wall, user and system seconds.
times=$work/times
TIMEFORMAT='%3R %3U %3S'
for ((r = 0; r < runs; r++)); do
  empty; { time ours 2>/dev/null; } 2>>"$times"
  empty; { time theirs; } 2>>"$times"
done
awk -v n="$n" -v q="$("$quadlet" -version)" '
  { k = int((NR + 1) / 2); if (NR % 2) { ow[k] = $1; oc[k] = $2 + $3 } else { sw[k] = $1; sc[k] = $2 + $3 } }
  function median(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
  END { k = NR / 2; mo = median(ow, k); ms = median(sw, k)
        printf "%d bundles, %d interleaved runs each (median): ociunit-generator %.1f ms, quadlet %s %.1f ms, ratio %.2f; CPU %.1f vs %.1f ms\n",
          n, k, mo * 1000, q, ms * 1000, mo / ms, median(oc, k) * 1000, median(sc, k) * 1000 }' "$times"
