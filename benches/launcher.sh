#!/bin/sh
# What ociunit-launch adds to a unit's start: `ociunit-launch -- /bin/true` (no cgroup work, so it
# runs on any host) against `/bin/true` alone, and the size of the stripped release binary.
# Goals: under 1 ms added per exec, under 1 MiB stripped. `env /bin/true`, a C program that only
# executes its argument, shows the floor: the price of one more execve(2) on this machine.
#
#   benches/launcher.sh            (RUNS=1000 benches/launcher.sh for a steadier minimum)
set -eu
cd "$(dirname "$0")/.."
cargo build --release --bin ociunit-launch
launcher="${CARGO_TARGET_DIR:-target}/release/ociunit-launch"
csv="$(mktemp)"
trap 'rm -f "$csv"' EXIT

hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-csv "$csv" \
    '/bin/true' '/usr/bin/env /bin/true' "$launcher -- /bin/true"

# Means suffer from whatever else the machine runs; the median, the minimum and the CPU time
# hold up better.
awk -F, -v size="$(stat -c %s "$launcher")" '
    NR == 1 { next }
    {
        median[NR] = $4 * 1000; min[NR] = $7 * 1000; cpu[NR] = ($5 + $6) * 1000
        printf "%-50s median %.3f ms, min %.3f ms, CPU %.3f ms\n", $1, median[NR], min[NR], cpu[NR]
    }
    END {
        printf "added by the launcher: median %.3f ms, min %.3f ms, CPU %.3f ms\n",
            median[NR] - median[2], min[NR] - min[2], cpu[NR] - cpu[2]
        printf "stripped size: %d bytes (%.0f KiB)\n", size, size / 1024
    }' "$csv"
