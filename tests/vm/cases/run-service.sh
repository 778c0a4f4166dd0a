# run-service: ociunit run --service --wait propagates exit codes 0, 3 and a signal death, and summarises
# suites: bookworm trixie
# variants: full
# timeout: 240
need_ociunit

payload_bundle() {  # DIR SHELL-CODE
  bundle "$1" "{
  \"ociVersion\": \"1.0.2-dev\",
  \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\",
    \"args\": [\"/bin/sh\", \"-c\", \"$2\"], \"env\": [\"PATH=/usr/bin:/bin\"]},
  \"linux\": {\"resources\": {\"memory\": {\"limit\": 268435456}}}
}"
}
for spec in 'zero|exit 0|0' 'three|exit 3|3' 'killed|kill -9 $$|137'; do
  IFS='|' read -r name code want <<<"$spec"
  payload_bundle "$OVM_WORK/ovm-svc-$name" "$code"
  unit=ovm-svc-$name.service
  note_unit "$unit"
  rc=0
  as_dev ociunit run --service --wait --collect --unit "$unit" "$OVM_WORK/ovm-svc-$name" \
    >"$OVM_OUT/$name.out" 2>"$OVM_OUT/$name.err" || rc=$?
  expect_eq "$name: exit status" "$want" "$rc"
  expect_match "$name: summary" 'Main processes terminated with: code=' "$(cat "$OVM_OUT/$name.err")"
done
sed 's/^/    | /' "$OVM_OUT/three.err"

# --pipe: our stdin/stdout reach the payload.
payload_bundle "$OVM_WORK/ovm-svc-pipe" 'read line; echo got:$line; cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max'
got=$(echo hello | as_dev ociunit run --service -P -q --unit ovm-svc-pipe.service "$OVM_WORK/ovm-svc-pipe" 2>"$OVM_OUT/pipe.err")
expect_eq "--pipe: stdin and stdout connected, limit applied" "got:hello"$'\n'"268435456" "$got"

# --json with --wait
json=$(as_dev ociunit run --service --wait --json -q --collect --unit ovm-svc-json.service "$OVM_WORK/ovm-svc-three" 2>/dev/null)
expect_match "--json" '"exit_status":3' "$json"
expect_match "--json invocation id" '"invocation_id":"[0-9a-f]{32}"' "$json"
