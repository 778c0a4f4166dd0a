//! The launcher's argument grammar: any argv (the input split at NUL bytes, which an argument
//! cannot hold) parses without a panic, and every spec that parses goes around unchanged: its
//! arguments, as the compiler writes them and as systemd reads them back from the unit's
//! `ExecStart=`, parse to the same spec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ociunit::launch::grammar::{Invocation, LaunchSpec};
use ociunit::render::{escape, systemd_reading};

const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let argv: Vec<String> = match text {
        "" => Vec::new(),
        text => text.split('\0').map(str::to_owned).collect(),
    };
    let Ok(Invocation::Launch(spec)) = LaunchSpec::parse(argv) else {
        return;
    };
    let _ = (spec.touches_cgroups(), spec.needed_controllers());
    let args = spec.to_args();
    assert_eq!(
        LaunchSpec::parse(args.clone()),
        Ok(Invocation::Launch(spec.clone()))
    );
    let mut groups = vec![vec![LAUNCHER.to_owned()]];
    groups.extend(spec.to_arg_groups());
    let unit = format!("[Service]\nExecStart={}\n", escape::exec_lines(&groups));
    let words = systemd_reading::exec_start(&unit)
        .unwrap_or_else(|why| panic!("systemd does not read {unit:?} as written: {why}"));
    let mut expected = vec![LAUNCHER.as_bytes().to_vec()];
    expected.extend(args.into_iter().map(String::into_bytes));
    assert_eq!(words, expected, "{unit}");
});
