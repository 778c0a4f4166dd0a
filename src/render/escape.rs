//! Escaping for unit files: a security boundary. A string from config.json must never become
//! unit syntax (a new line, a new setting), a specifier (`%n`), a variable expansion (`$HOME`)
//! or a second command (`;`).
//!
//! ExecStart= words are double-quoted when they hold anything beyond a safe set, with systemd's
//! C escapes inside; `%` is doubled for specifier expansion and `$` for environment expansion,
//! which systemd applies to every word after unquoting. Everything else in a unit is either
//! built by us from validated values (`setting`) or free text (`description`, `record`).

#![warn(clippy::indexing_slicing)]

use std::fmt::Write;

/// Characters that need no quoting in an ExecStart= word.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ',' | '+' | '@')
}

/// One ExecStart= word, quoted if needed, appended to `quoted`: the command lines are built in
/// one buffer, not a string per word (every unit has a few dozen words, and the generator
/// writes a unit per bundle).
fn push_exec_word(quoted: &mut String, word: &str) {
    if !word.is_empty() && word.chars().all(is_plain) {
        quoted.push_str(word);
        return;
    }
    quoted.push('"');
    for c in word.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '%' => quoted.push_str("%%"),
            '$' => quoted.push_str("$$"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
}

/// A whole ExecStart= command line.
pub fn exec_line(words: &[String]) -> String {
    let mut line = String::new();
    push_exec_line(&mut line, words);
    line
}

fn push_exec_line(line: &mut String, words: &[String]) {
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            line.push(' ');
        }
        push_exec_word(line, word);
    }
}

/// A command line over several lines, one group of words per line, joined by systemd's line
/// continuation (a backslash at the end of the line reads as a space).
pub fn exec_lines(groups: &[Vec<String>]) -> String {
    let mut lines = String::new();
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            lines.push_str(" \\\n    ");
        }
        push_exec_line(&mut lines, group);
    }
    lines
}

/// A setting value the compiler built (numbers, validated paths). `%` is doubled only where
/// systemd expands specifiers (paths, names); elsewhere (`CPUQuota=13%`) it is literal.
/// Anything that would break the line is a compiler bug, refused rather than written.
pub fn setting(value: &str, expands_specifiers: bool) -> Result<String, String> {
    if value.chars().any(char::is_control) || value.ends_with('\\') {
        return Err(format!("refusing to write {value:?} into a unit file"));
    }
    Ok(if expands_specifiers {
        value.replace('%', "%%")
    } else {
        value.to_owned()
    })
}

/// Free text in a setting systemd expands specifiers in (Description=), which systemd shows as
/// written: [`printable`], `%` doubled, and a backslash that would end the line (and so
/// continue it) as `\x5c`. Backslashes elsewhere stay: systemd does not unescape here.
pub fn description(text: &str) -> String {
    let text = printable(text).replace('%', "%%");
    match text.strip_suffix('\\') {
        Some(head) => format!("{head}\\x5c"),
        None => text,
    }
}

/// Text for a terminal, as systemctl shows it: control characters as C escapes (`\n`, `\t`,
/// `\x1b`, `\u009b`), so that a name or path cannot move the cursor or start an escape
/// sequence; everything else as it is.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Free text in our own `[X-Ociunit]` section, which systemd does not interpret: C escapes for
/// backslashes, control characters and a space at either end (which reading the line strips),
/// reversible with [`unrecord`].
pub fn record(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.char_indices() {
        let at_an_end = index == 0 || index + c.len_utf8() == text.len();
        if c == '\\' || c.is_control() || (c == ' ' && at_an_end) {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`record`]; `None` if the text was not written by it.
pub fn unrecord(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        if chars.next() != Some('x') {
            return None;
        }
        let hex: String = chars.by_ref().take(2).collect();
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
    }
    Some(out)
}

/// A unit name from arbitrary text, like `systemd-escape`: characters valid in unit names
/// (letters, digits, `:`, `_`, `.`, `-`) stay, everything else becomes `\xNN` per byte, a
/// leading `.` is escaped so the name is not hidden, and a leading `-` so that systemctl does
/// not read the name as an option.
pub fn unit_name(text: &str) -> String {
    let mut out = String::new();
    for (index, byte) in text.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric()
            || b":_".contains(&byte)
            || (b".-".contains(&byte) && index > 0);
        if keep {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// A name as the user gave it (`--name`, `status NAME`): used as it is when it is already a
/// name [`unit_name`] writes (as `list` shows it), escaped otherwise. So `compile --name=-x`
/// and `status -- -x` both mean `\x2dx.service`, and so does `status '\x2dx'`.
pub fn as_unit_name(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        let escaped = rest.strip_prefix(b"x").and_then(|r| r.split_at_checked(2));
        let decoded = escaped.and_then(|(hex, tail)| {
            let byte = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            Some((byte, tail))
        });
        let Some((byte, tail)) = decoded else {
            return unit_name(text);
        };
        bytes.push(byte);
        rest = tail;
    }
    match String::from_utf8(bytes) {
        Ok(name) if unit_name(&name) == text => text.to_owned(),
        _ => unit_name(text),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests may index")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The arguments systemd passes for `ExecStart=/launcher VALUE` in a unit file.
    fn systemd_reads(value: &str) -> Vec<String> {
        let unit = format!("[Service]\nExecStart=/launcher {value}\n");
        let words = super::super::systemd_reading::exec_start(&unit)
            .unwrap_or_else(|why| panic!("systemd does not read {value:?}: {why}"));
        words[1..]
            .iter()
            .map(|w| String::from_utf8(w.clone()).expect("UTF-8 in, UTF-8 out"))
            .collect()
    }

    proptest! {
        #[test]
        fn exec_words_reach_the_payload_unchanged(words in prop::collection::vec("[^\u{0}]*", 0..6)) {
            let line = exec_line(&words);
            prop_assert!(!line.contains('\n'));
            prop_assert!(!line.ends_with('\\'));
            prop_assert_eq!(systemd_reads(&line), words.clone());
            let groups: Vec<Vec<String>> = words.chunks(2).map(<[String]>::to_vec).collect();
            prop_assert_eq!(systemd_reads(&exec_lines(&groups)), words);
        }

        #[test]
        fn descriptions_are_one_inert_line(text in "\\PC*|.*[\\\\%\u{1b}\u{9b}\n]") {
            let description = description(&text);
            prop_assert!(!description.chars().any(char::is_control));
            prop_assert!(!description.ends_with('\\'));
            prop_assert!(description.replace("%%", "").find('%').is_none());
        }

        #[test]
        fn records_round_trip(text in "[^\u{0}]*") {
            let recorded = record(&text);
            prop_assert!(!recorded.chars().any(char::is_control));
            prop_assert_eq!(unrecord(&recorded), Some(text));
        }

        #[test]
        fn unit_names_are_always_valid(text in "\\PC*") {
            for name in [unit_name(&text), as_unit_name(&text)] {
                prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || ":_.-\\".contains(c)));
                prop_assert!(!name.starts_with('.') && !name.starts_with('-'));
            }
            prop_assert_eq!(as_unit_name(&unit_name(&text)), unit_name(&text));
        }
    }

    #[test]
    fn dangerous_words() {
        let exec_word = |word: &str| exec_line(&[word.to_owned()]);
        assert_eq!(exec_word("plain-word_1.0"), "plain-word_1.0");
        assert_eq!(exec_word(""), "\"\"");
        assert_eq!(exec_word(";"), "\";\"");
        assert_eq!(exec_word("%n $HOME"), "\"%%n $$HOME\"");
        assert_eq!(exec_word("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(exec_word("\u{1}"), "\"\\u0001\"");
        assert_eq!(exec_word("héllo wörld"), "\"héllo wörld\"");
        assert_eq!(unit_name("my app/.x"), "my\\x20app\\x2f.x");
        assert_eq!(unit_name(".hidden"), "\\x2ehidden");
        assert_eq!(unit_name("-foo"), "\\x2dfoo");
        assert_eq!(unit_name("a-b"), "a-b");
        assert_eq!(as_unit_name("-foo"), "\\x2dfoo");
        assert_eq!(as_unit_name("\\x2dfoo"), "\\x2dfoo");
        assert_eq!(as_unit_name("my\\x20app"), "my\\x20app");
        assert_eq!(as_unit_name("a\\b"), "a\\x5cb");
        assert_eq!(
            as_unit_name("\\x61"),
            "\\x5cx61",
            "not what unit_name writes for \"a\""
        );
        assert_eq!(
            description("OCI bundle /srv/a\\b 50%"),
            "OCI bundle /srv/a\\b 50%%"
        );
        assert_eq!(description("/srv/a\\"), "/srv/a\\x5c");
        assert_eq!(
            printable("a\nb\tc\u{1b}[2J\u{9b}1m\u{7f}é"),
            "a\\nb\\tc\\x1b[2J\\u009b1m\\x7fé"
        );
        assert_eq!(setting("/srv/50%", true), Ok("/srv/50%%".into()));
        assert_eq!(setting("50%", false), Ok("50%".into()));
        assert!(setting("a\nb", false).is_err());
        assert!(setting("a\\", true).is_err());
        assert_eq!(record(" a b "), "\\x20a b\\x20");
    }
}
