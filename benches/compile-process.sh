#!/bin/sh
# benches/compile-process.sh [BUNDLE...] - time a whole `ociunit compile` process with hyperfine.
#
# Builds the release binary, then runs `ociunit compile BUNDLE` for each bundle (default: a few
# from tests/bundles/) with --systemd-version given, so that ociunit does not spawn systemctl,
# and --launcher given, so it does not look for ociunit-launch. The goal is under 5 ms per
# process (mean); the script prints the means and says which bundles miss it. It exits 1 only
# when hyperfine or the build fails, since a loaded machine may miss the goal; set
# OCIUNIT_BENCH_STRICT=1 to make a missed goal fail too.
#
# Environment: HYPERFINE_ARGS (extra hyperfine options, e.g. "--runs 2000"), CARGO (cargo).
set -eu

cd "$(dirname "$0")/.."
: "${CARGO:=cargo}"
GOAL_MS=5

command -v hyperfine >/dev/null || {
  echo "compile-process.sh: hyperfine is not installed (apt-get install hyperfine)" >&2
  exit 1
}
"$CARGO" build --release --quiet --bin ociunit
BIN=$PWD/target/release/ociunit

[ $# -gt 0 ] || set -- tests/bundles/runc-spec tests/bundles/spec-example tests/bundles/rich tests/bundles/escaping

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

i=0
for bundle in "$@"; do
  i=$((i + 1))
  # Warnings go to stderr; hyperfine discards both streams (the output itself is not timed).
  # shellcheck disable=SC2086
  hyperfine --shell=none --warmup 50 --min-runs 300 ${HYPERFINE_ARGS:-} \
    --export-json "$out/$i.json" \
    --command-name "ociunit compile $bundle" \
    "$BIN compile $bundle --system --systemd-version 252 --launcher /usr/libexec/ociunit-launch"
done

status=0
python3 - "$GOAL_MS" "$out"/*.json <<'EOF' || status=$?
import json, sys
goal = float(sys.argv[1])
slow = []
print(f"\n{'command':<60} {'mean':>10} {'median':>10} {'min':>10}")
for path in sys.argv[2:]:
    for r in json.load(open(path))["results"]:
        mean, median, low = (r[k] * 1000 for k in ("mean", "median", "min"))
        print(f"{r['command']:<60} {mean:>7.2f} ms {median:>7.2f} ms {low:>7.2f} ms")
        if mean > goal:
            slow.append(r["command"])
if slow:
    print(f"over the {goal:g} ms goal (mean): " + ", ".join(slow))
    sys.exit(3)
print(f"every process finished in under {goal:g} ms (mean)")
EOF
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || exit 1
if [ "$status" -eq 3 ] && [ "${OCIUNIT_BENCH_STRICT:-0}" = 1 ]; then
  exit 1
fi
exit 0
