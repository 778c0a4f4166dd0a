//! What several test binaries need.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A stand-in `crun` in `bin` (created) that only says its version: enough for container mode
/// to be chosen, and with `--runtime-version` it is not even run.
pub fn stand_in_crun(bin: &Path) {
    fs::create_dir(bin).unwrap();
    let crun = bin.join("crun");
    fs::write(&crun, "#!/bin/sh\necho 'crun version 1.21'\n").unwrap();
    fs::set_permissions(&crun, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The launcher the units name; tests never run it.
pub const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

/// The system manager of systemd 257, with the stand-in's version: nothing is asked of the host.
pub const SYSTEM_257: [&str; 7] = [
    "--system",
    "--systemd-version",
    "257",
    "--launcher",
    LAUNCHER,
    "--runtime-version",
    "1.21",
];

/// Checks `contents` against `snapshots/NAME.snap`, with `scratch` as `[SCRATCH]`, the
/// repository as `[REPO]`, and the hashes and sizes that depend on those paths masked.
pub fn snapshot(scratch: &Path, name: &str, contents: &str) {
    let contents = contents
        .replace(&*scratch.to_string_lossy(), "[SCRATCH]")
        .replace(env!("CARGO_MANIFEST_DIR"), "[REPO]");
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![
            ("RuntimeConfigSha256=[0-9a-f]{64}", "RuntimeConfigSha256=[SHA256]"),
            ("UnitSha256=[0-9a-f]{64}", "UnitSha256=[UNIT-SHA256]"),
            ("\"bytes\": [0-9]+", "\"bytes\": [BYTES]"),
        ],
    }, {
        insta::assert_snapshot!(name, &contents);
    });
}
