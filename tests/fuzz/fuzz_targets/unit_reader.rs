//! The `[X-Ociunit]` unit reader on any text: no panic; sealing is idempotent, and a unit whose
//! record and empty `UnitSha256=` line are where ociunit's template puts them reads, once sealed,
//! as ociunit's untouched output with the source it names, and as edited after any change.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use ociunit::render::escape;
use ociunit::unit_file::{self, Ownership, SECTION};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = unit_file::inspect(&text);
    let sealed = unit_file::seal(&text);
    assert_eq!(unit_file::seal(&sealed), sealed, "sealing is idempotent");
    let _ = unit_file::inspect(&sealed);

    // The fuzzed text as the source path of a record, followed by the rest of a unit.
    let (source, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let unit = format!(
        "[Unit]\nDescription=x\n\n{SECTION}\nSource={}\nUnitSha256=\n\n[Service]\n{}\n",
        escape::record(source),
        rest.replace('[', "").replace("UnitSha256=", "")
    );
    let sealed = unit_file::seal(&unit);
    match unit_file::inspect(&sealed) {
        Ownership::Generated(record) => assert_eq!(record.source, PathBuf::from(source)),
        other => panic!("{sealed:?} read as {other:?}"),
    }
    let edited = sealed.replacen("[Service]\n", "[Service]\nX=1\n", 1);
    assert!(matches!(unit_file::inspect(&edited), Ownership::Edited(_)));
});
