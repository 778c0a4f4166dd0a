//! A generated unit file as a record of itself: the `[X-Ociunit]` section names the bundle it
//! came from and carries the hash of the unit's own content, so ociunit can tell its own
//! untouched output from a unit someone wrote or edited — and never replace those silently.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::bundle::hex;
use crate::render::escape;

pub const SECTION: &str = "[X-Ociunit]";
const UNIT_HASH_KEY: &str = "UnitSha256=";
/// What reading a `KEY=VALUE` line strips from either side.
const BLANKS: [char; 2] = [' ', '\t'];

/// What the `[X-Ociunit]` section says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Record {
    pub source: PathBuf,
    pub config_sha256: String,
    pub manager: String,
    pub systemd: String,
    /// Container mode: the runtime's config ociunit derived from the bundle, and its hash.
    pub runtime_config: Option<(PathBuf, String)>,
}

/// Who wrote a unit file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// ociunit, and nobody changed it since.
    Generated(Record),
    /// ociunit, but its content no longer matches its hash.
    Edited(Record),
    /// Not ociunit.
    Foreign,
}

fn content_hash(text_without_hash: &str) -> String {
    hex(&Sha256::digest(text_without_hash.as_bytes()))
}

/// The text with the value of the first `UnitSha256=` line blanked, as it was hashed, and where
/// in it that value goes, with the value. [`seal`] and [`inspect`] both take this line, even
/// where it is not the template's (the fuzzer found a file whose first line was one).
fn unsealed(text: &str) -> (String, Option<(usize, String)>) {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if let Some(value) = line.strip_prefix(UNIT_HASH_KEY) {
            let rest = &text[start + line.len()..];
            // With room for the hash that `seal` puts in.
            let mut out = String::with_capacity(text.len() + 64);
            out.push_str(&text[..start]);
            out.push_str(UNIT_HASH_KEY);
            let at = out.len();
            out.push('\n');
            out.push_str(rest);
            return (out, Some((at, value.trim_end().to_owned())));
        }
        start += line.len();
    }
    (text.to_owned(), None)
}

/// Fills in the `UnitSha256=` line the template leaves empty.
pub fn seal(text: &str) -> String {
    let (mut blank, found) = unsealed(text);
    if let Some((at, _)) = found {
        let hash = content_hash(&blank);
        blank.insert_str(at, &hash);
    }
    blank
}

/// Reads the record and checks the hash.
pub fn inspect(text: &str) -> Ownership {
    let mut in_section = false;
    let mut fields = std::collections::HashMap::new();
    for line in text.lines() {
        if line.starts_with('[') {
            in_section = line.trim() == SECTION;
        } else if in_section {
            if let Some((key, value)) = line.split_once('=') {
                // Only the whitespace `escape::record` escapes: a path may end in U+3000.
                fields.insert(key.trim_matches(BLANKS), value.trim_matches(BLANKS));
            }
        }
    }
    let Some(source) = fields.get("Source").and_then(|s| escape::unrecord(s)) else {
        return Ownership::Foreign;
    };
    let field = |key: &str| fields.get(key).copied().unwrap_or_default().to_owned();
    let record = Record {
        source: PathBuf::from(source),
        config_sha256: field("ConfigSha256"),
        manager: field("Manager"),
        systemd: field("TargetSystemd"),
        runtime_config: fields
            .get("RuntimeConfig")
            .and_then(|s| escape::unrecord(s))
            .map(|path| (PathBuf::from(path), field("RuntimeConfigSha256"))),
    };
    let (blank, hash) = unsealed(text);
    match hash {
        Some((_, hash)) if hash == content_hash(&blank) => Ownership::Generated(record),
        _ => Ownership::Edited(record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "[Unit]\nDescription=x\n\n[X-Ociunit]\nSource=/b/config.json\nConfigSha256=ab\n\
                        Manager=user\nTargetSystemd=257\nUnitSha256=\n\n[Service]\nExecStart=/bin/true\n";

    #[test]
    fn sealed_units_are_recognised_and_edits_are_noticed() {
        let sealed = seal(UNIT);
        assert!(!sealed.contains("UnitSha256=\n"));
        let Ownership::Generated(record) = inspect(&sealed) else {
            panic!("not generated")
        };
        assert_eq!(record.source, PathBuf::from("/b/config.json"));
        assert_eq!(record.config_sha256, "ab");
        assert_eq!(seal(&sealed), sealed, "sealing is idempotent");
        let edited = sealed.replace("/bin/true", "/bin/false");
        assert!(matches!(inspect(&edited), Ownership::Edited(_)));
        assert_eq!(
            inspect("[Service]\nExecStart=/bin/true\n"),
            Ownership::Foreign
        );
    }

    /// Found by the unit_reader fuzz target: with a `UnitSha256=` line first in the file, seal
    /// filled in a later one, so sealing again changed the file and it read as edited.
    #[test]
    fn the_first_hash_line_is_the_one_sealed_and_read() {
        let unit = format!("UnitSha256=x\n{UNIT}");
        let sealed = seal(&unit);
        assert_eq!(seal(&sealed), sealed);
        assert!(matches!(inspect(&sealed), Ownership::Generated(_)));
        assert!(sealed.ends_with("UnitSha256=\n\n[Service]\nExecStart=/bin/true\n"));
    }

    /// Found by the unit_reader fuzz target: `Source=` lost a space (or any Unicode whitespace)
    /// at the end of the path.
    #[test]
    fn sources_keep_the_whitespace_at_their_ends() {
        for source in ["# ", " /b/config.json", "/b/\u{3000}", "/b/\u{a0}"] {
            let unit = UNIT.replace("/b/config.json", &escape::record(source));
            let Ownership::Generated(record) = inspect(&seal(&unit)) else {
                panic!("not generated")
            };
            assert_eq!(record.source, PathBuf::from(source));
        }
    }
}
