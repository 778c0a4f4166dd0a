//! The escaping against systemd's reading of it: the input as words (split at NUL bytes, which
//! an argument cannot hold) written by `escape::exec_line` and `escape::exec_lines` into
//! `ExecStart=`, read back with systemd's rules (line continuation, unquoting, C unescaping,
//! `%%` and `$$`), gives back the same bytes; a description stays one setting with no
//! specifier; a record reads back as written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ociunit::render::escape;
use ociunit::render::systemd_reading::{exec_start, settings};

const LAUNCHER: &str = "/usr/libexec/ociunit-launch";

fn systemd_reads(value: &str) -> Vec<Vec<u8>> {
    let unit = format!("[Service]\nExecStart={LAUNCHER} {value}\n");
    let mut words = exec_start(&unit)
        .unwrap_or_else(|why| panic!("systemd does not read {unit:?} as written: {why}"));
    assert_eq!(words.remove(0), LAUNCHER.as_bytes());
    words
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<String> = text.split('\0').map(str::to_owned).collect();
    let bytes: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
    assert_eq!(systemd_reads(&escape::exec_line(&words)), bytes);
    // Groups of varying size, as the launcher's options are.
    let size = data.first().map_or(1, |b| usize::from(b % 4) + 1);
    let groups: Vec<Vec<String>> = words.chunks(size).map(<[String]>::to_vec).collect();
    assert_eq!(systemd_reads(&escape::exec_lines(&groups)), bytes);

    let description = escape::description(text);
    let unit = format!("[Unit]\nDescription={description}\n");
    let read = settings(&unit).expect("a description is one line");
    assert_eq!(read.len(), 1, "{unit:?}");
    assert!(!description.replace("%%", "").contains('%'));

    let recorded = escape::record(text);
    assert!(!recorded.chars().any(char::is_control));
    assert_eq!(escape::unrecord(&recorded).as_deref(), Some(text));
});
