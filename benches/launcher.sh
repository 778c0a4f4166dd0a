#!/bin/sh
# What ociunit-launch adds to a unit's start: `ociunit-launch -- /bin/true` (no cgroup work, so it
# runs on any host) against `/bin/true` alone, and the size of the stripped release binary.
# Goals: under 1 ms added per exec, under 1 MiB stripped.
#
#   benches/launcher.sh            (RUNS=1000 benches/launcher.sh for a steadier minimum)
set -eu
cd "$(dirname "$0")/.."
cargo build --release --bin ociunit-launch
launcher="${CARGO_TARGET_DIR:-target}/release/ociunit-launch"
csv="$(mktemp)"
trap 'rm -f "$csv"' EXIT

hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-csv "$csv" \
    '/bin/true' "$launcher -- /bin/true"

# Means suffer from whatever else the machine runs; the median, the minimum and the CPU time
# hold up better.
awk -F, -v size="$(stat -c %s "$launcher")" '
    NR == 2 { for (i = 2; i <= 7; i++) base[i] = $i * 1000 }
    NR == 3 { for (i = 2; i <= 7; i++) with[i] = $i * 1000 }
    END {
        printf "added per exec: median %.3f ms, min %.3f ms, mean %.3f ms, CPU (user+sys) %.3f ms\n",
            with[4] - base[4], with[7] - base[7], with[2] - base[2],
            with[5] + with[6] - base[5] - base[6]
        printf "  /bin/true alone: median %.3f ms, min %.3f ms\n", base[4], base[7]
        printf "  through launcher: median %.3f ms, min %.3f ms\n", with[4], with[7]
        printf "stripped size: %d bytes (%.0f KiB)\n", size, size / 1024
    }' "$csv"
