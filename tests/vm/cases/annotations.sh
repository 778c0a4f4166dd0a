# annotations: org.systemd.property.* annotations reach systemd and the payload's cgroup, compiled and run; memory.limit wins over a MemoryMax annotation
# suites: bookworm trixie
# variants: full
# timeout: 240
need_ociunit

# annotated_json OUTFILE: systemd syntax, a GVariant string and uint64 values, one MemoryMax
# shadowed by memory.limit, and an annotation that is not a property
annotated_json() {
  cat <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["/usr/local/libexec/ovm-cgdump", "$1", "sleep", "600"],
    "env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
    "cwd": "/"
  },
  "linux": {"resources": {"memory": {"limit": 268435456}}},
  "annotations": {
    "org.systemd.property.MemoryMax": "uint64 536870912",
    "org.systemd.property.MemoryHigh": "'200M'",
    "org.systemd.property.TasksMax": "uint64 77",
    "org.systemd.property.CPUQuotaPerSecUSec": "uint64 250000",
    "org.systemd.property.CPUWeight": "42",
    "org.systemd.property.AllowedCPUs": "0",
    "org.systemd.property.IOWeight": "uint64 300",
    "io.example.other": "not a property"
  }
}
EOF
}

check() {  # HOW UNIT OUTFILE
  local how=$1 unit=$2 out=$3
  wait_file "$out" 60 || _bad "$how: the payload did not write $out"
  [ -f "$out" ] && sed 's/^/    > /' "$out"
  expect_eq "$how: memory.max (memory.limit wins)" 268435456 "$(kv "$out" memory.max)"
  expect_eq "$how: memory.high" 209715200 "$(kv "$out" memory.high)"
  expect_eq "$how: pids.max" 77 "$(kv "$out" pids.max)"
  expect_eq "$how: cpu.max" "25000 100000" "$(kv "$out" cpu.max)"
  expect_eq "$how: cpu.weight" 42 "$(kv "$out" cpu.weight)"
  expect_eq "$how: cpuset.cpus" 0 "$(kv "$out" cpuset.cpus)"
  expect_eq "$how: io.weight" "default 300" "$(kv "$out" io.weight)"
  load_props "$unit"
  expect_eq "$how: MemoryMax" 268435456 "${PROP[MemoryMax]-}"
  expect_eq "$how: MemoryHigh" 209715200 "${PROP[MemoryHigh]-}"
  expect_eq "$how: TasksMax" 77 "${PROP[TasksMax]-}"
  expect_eq "$how: CPUQuotaPerSecUSec" 250ms "${PROP[CPUQuotaPerSecUSec]-}"
  expect_eq "$how: CPUWeight" 42 "${PROP[CPUWeight]-}"
  expect_eq "$how: AllowedCPUs" 0 "${PROP[AllowedCPUs]-}"
  expect_eq "$how: IOWeight" 300 "${PROP[IOWeight]-}"
  usys stop "$unit"
}

out=$OVM_WORK/compiled.txt
bundle "$OVM_WORK/ovm-annotated" "$(annotated_json "$out")"
unit=ovm-annotated.service
compile_user "$OVM_WORK/ovm-annotated" "$unit" || case_fail "compile failed"
sed 's/^/    | /' "$DEV_UNITS/$unit"
expect_empty "systemd-analyze --user verify" \
  "$(as_dev systemd-analyze --user verify "$DEV_UNITS/$unit" 2>&1)"
usys daemon-reload
expect_rc "systemctl --user start $unit" 0 usys start "$unit"
check compiled "$unit" "$out"

out=$OVM_WORK/run.txt
bundle "$OVM_WORK/ovm-annotated-run" "$(annotated_json "$out")"
unit=ovm-annotated-run.service
note_unit "$unit"
as_dev ociunit run --service --no-block -q --unit "$unit" "$OVM_WORK/ovm-annotated-run" \
  2>"$OVM_OUT/run.err" || _bad "run failed: $(cat "$OVM_OUT/run.err")"
check run "$unit" "$out"
