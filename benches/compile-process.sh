#!/bin/sh
# benches/compile-process.sh [BUNDLE...] - time a whole `ociunit compile` process with hyperfine.
#
# Builds the release binary, then runs `ociunit compile BUNDLE` for each bundle (default: a few
# from tests/bundles/, and a generated one with 100 000 device rules) with --systemd-version
# given, so that ociunit does not spawn systemctl, and --launcher given, so it does not look for
# ociunit-launch. The goal is under 5 ms per process (mean), and under 1 s for the generated
# bundle; the script prints the means and says which bundles miss it. It exits 1 only when
# hyperfine or the build fails, since a loaded machine may miss the goal; set
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

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

# The generated bundle: "deny all", then allows of distinct devices, every fourth rule a deny of
# write access (as benches/compile.rs generates it).
python3 - "$out/device-rules" <<'EOF'
import json, os, sys
rules = [{"allow": False, "access": "rwm"}]
for i in range(100000):
    major, minor = 200 + i // 256, i % 256
    if i % 4 == 3:
        rules.append({"allow": False, "type": "c", "major": major, "minor": minor - 1, "access": "w"})
    else:
        kind = "b" if i % 4 == 0 else "c"
        rules.append({"allow": True, "type": kind, "major": major, "minor": minor, "access": "rwm"})
os.mkdir(sys.argv[1])
process = {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/"}
config = {"ociVersion": "1.2.0", "process": process, "linux": {"resources": {"devices": rules}}}
json.dump(config, open(os.path.join(sys.argv[1], "config.json"), "w"))
EOF

[ $# -gt 0 ] || set -- tests/bundles/runc-spec tests/bundles/spec-example tests/bundles/rich \
  tests/bundles/escaping "$out/device-rules"

i=0
for bundle in "$@"; do
  i=$((i + 1))
  # A bundle that takes about a second gets fewer runs, and the goal for its size.
  case $bundle in
    */device-rules) goal=1000 runs="--warmup 2 --min-runs 10" ;;
    *) goal=$GOAL_MS runs="--warmup 50 --min-runs 300" ;;
  esac
  # Warnings go to stderr; hyperfine discards both streams (the output itself is not timed).
  # shellcheck disable=SC2086
  hyperfine --shell=none $runs ${HYPERFINE_ARGS:-} \
    --export-json "$out/$i-$goal.json" \
    --command-name "ociunit compile $bundle" \
    "$BIN compile $bundle --system --systemd-version 252 --launcher /usr/libexec/ociunit-launch"
done

status=0
python3 - "$out"/*.json <<'EOF' || status=$?
import json, os, sys
slow = []
print(f"\n{'command':<60} {'mean':>10} {'median':>10} {'min':>10}")
for path in sys.argv[1:]:
    # The goal is in the file name: N-GOAL.json.
    goal = float(os.path.basename(path).rsplit("-", 1)[1].removesuffix(".json"))
    for r in json.load(open(path))["results"]:
        mean, median, low = (r[k] * 1000 for k in ("mean", "median", "min"))
        print(f"{r['command']:<60} {mean:>7.2f} ms {median:>7.2f} ms {low:>7.2f} ms")
        if mean > goal:
            slow.append(f"{r['command']} (goal {goal:g} ms)")
if slow:
    print("over the goal (mean): " + ", ".join(slow))
    sys.exit(3)
print("every process finished within its goal (mean)")
EOF
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || exit 1
if [ "$status" -eq 3 ] && [ "${OCIUNIT_BENCH_STRICT:-0}" = 1 ]; then
  exit 1
fi
exit 0
