//! How systemd reads what [`super::escape`] writes: the other side of the security boundary,
//! written after systemd's own code so that a round trip through it means what systemd would do.
//! The tests and the fuzzer check the compiler's output against it, and `ociunit apply` reads an
//! installed unit with it, so that what apply believes runs is what systemd started.
//!
//! - [`settings`]: `config_parse()` in src/shared/conf-parser.c: comment lines (also inside a
//!   continuation), a line that ends in an unescaped backslash continued by the next with the
//!   backslash read as a space, `[Section]` headers, `KEY=VALUE` with both sides stripped.
//! - [`exec_words`]: `config_parse_exec()` in src/core/load-fragment.c: an unquoted `;` or `\;`
//!   word, then each word by `extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE)`
//!   (src/basic/extract-word.c, `cunescape_one()` in src/basic/escape.c), then specifier
//!   expansion, then, when the command runs, environment variable expansion.
//!
//! Where systemd would warn and go on (an unknown escape, which `extract_first_word_and_warn()`
//! retries with EXTRACT_CUNESCAPE_RELAX), expand (`%n`, `$HOME`), or start a second command,
//! this reader fails instead: ociunit's output must never get there.

#![warn(clippy::indexing_slicing)]

/// One `KEY=VALUE` of a unit file, as systemd hands it to the setting's parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub section: String,
    pub key: String,
    pub value: String,
}

const WHITESPACE: &[u8] = b" \t\n\r";
const COMMENTS: &[u8] = b"#;";

fn strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii() && WHITESPACE.contains(&(c as u8)))
}

/// The settings of a unit file, in order; `Err` for a line systemd would reject.
pub fn settings(unit: &str) -> Result<Vec<Setting>, String> {
    let mut settings = Vec::new();
    let mut section = String::new();
    let mut continuation: Option<String> = None;
    for line in lines(unit) {
        let first = line.bytes().find(|b| !WHITESPACE.contains(b));
        if first.is_some_and(|b| COMMENTS.contains(&b)) {
            continue;
        }
        let mut text = continuation.take().unwrap_or_default();
        text.push_str(line);
        let mut escaped = false;
        for byte in text.bytes() {
            escaped = !escaped && byte == b'\\';
        }
        if escaped {
            text.pop();
            text.push(' ');
            continuation = Some(text);
            continue;
        }
        let text = strip(&text);
        if text.is_empty() {
            continue;
        }
        if let Some(name) = text.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| format!("invalid section header {text:?}"))?;
            name.clone_into(&mut section);
            continue;
        }
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("missing '=' in {text:?}"))?;
        settings.push(Setting {
            section: section.clone(),
            key: strip(key).to_owned(),
            value: strip(value).to_owned(),
        });
    }
    match continuation {
        Some(text) => Err(format!("the file ends in a continued line {text:?}")),
        None => Ok(settings),
    }
}

/// The argv of the one `ExecStart=` of a unit file's `[Service]`.
pub fn exec_start(unit: &str) -> Result<Vec<Vec<u8>>, String> {
    exec_start_in(&settings(unit)?)
}

/// [`exec_start`] of a file already read, for a reader that needs its other settings too.
pub fn exec_start_in(settings: &[Setting]) -> Result<Vec<Vec<u8>>, String> {
    let mut exec_start = settings
        .iter()
        .filter(|s| s.section == "Service" && s.key == "ExecStart");
    match (exec_start.next(), exec_start.next()) {
        (Some(setting), None) => exec_words(&setting.value),
        _ => Err("not exactly one ExecStart= in [Service]".into()),
    }
}

/// The lines of a file as `read_line()` (src/basic/fileio.c) ends them: at `\n`, `\r`, `\r\n`
/// or NUL.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r', '\0']).unwrap_or(rest.len());
        let line = &rest[..end];
        let eol = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = rest.get(end + eol..).unwrap_or_default();
        Some(line)
    })
}

/// The argv of an `ExecStart=` value as the payload receives it (bytes: `\xNN` may make any).
/// The first word is the program; a prefix (`-`, `@`, `:`, `+`, `!`, `|`) on it is an error
/// here, as ociunit's launcher path never has one.
pub fn exec_words(value: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut words = Vec::new();
    let mut rest = value.as_bytes();
    loop {
        let start = rest.iter().position(|b| !WHITESPACE.contains(b));
        rest = start
            .and_then(|start| rest.get(start..))
            .unwrap_or_default();
        let Some(&first) = rest.first() else {
            break;
        };
        let ends_word = |index: usize| rest.get(index).is_none_or(|b| WHITESPACE.contains(b));
        if first == b';' && ends_word(1) {
            return Err(format!("a second command after {words:?}"));
        }
        if rest.starts_with(b"\\;") && ends_word(2) {
            // systemd passes a literal `;` here, without unescaping.
            words.push(b";".to_vec());
            rest = rest.get(2..).unwrap_or_default();
            continue;
        }
        let (word, tail) = extract_first_word(rest)?;
        rest = tail;
        let word = expand_specifiers(&word)?;
        words.push(expand_environment(&word)?);
    }
    match words.first() {
        None => Err("an empty command line".into()),
        Some(program) if program.first().is_some_and(|b| b"-@:+!|".contains(b)) => {
            Err(format!("the program {program:?} has a prefix"))
        }
        Some(_) => Ok(words),
    }
}

/// One word of `text` (which starts with a non-separator), unquoted and unescaped, and the text
/// after it.
fn extract_first_word(text: &[u8]) -> Result<(Vec<u8>, &[u8]), String> {
    let mut word = Vec::new();
    let mut quote: Option<u8> = None;
    let mut index = 0;
    while let Some(&c) = text.get(index) {
        index += 1;
        match (quote, c) {
            (_, b'\\') => {
                let (bytes, used) = cunescape_one(text.get(index..).unwrap_or_default())?;
                word.extend_from_slice(&bytes);
                index += used;
            }
            (Some(q), c) if c == q => quote = None,
            (None, b'\'' | b'"') => quote = Some(c),
            (None, c) if WHITESPACE.contains(&c) => {
                return Ok((word, text.get(index..).unwrap_or_default()));
            }
            (_, c) => word.push(c),
        }
    }
    match quote {
        Some(_) => Err(format!(
            "unbalanced quoting in {:?}",
            String::from_utf8_lossy(text)
        )),
        None => Ok((word, &[])),
    }
}

/// `cunescape_one()` without accepting NUL: the bytes of one escape after its backslash, and
/// how many bytes of `text` it took.
fn cunescape_one(text: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let invalid = || {
        format!(
            "invalid escape \\{}",
            String::from_utf8_lossy(text.get(..9).unwrap_or(text))
        )
    };
    let digits = |count: usize, radix: u32| -> Result<u32, String> {
        let digits = text.get(1..=count).ok_or_else(invalid)?;
        digits.iter().try_fold(0u32, |value, &d| {
            let digit = char::from(d).to_digit(radix).ok_or_else(invalid)?;
            Ok(value * radix + digit)
        })
    };
    let simple = |byte: u8| Ok((vec![byte], 1));
    // `unichar_is_valid()` (src/basic/utf8.c) also refuses the noncharacters.
    let noncharacter = |code: u32| (0xfdd0..=0xfdef).contains(&code) || code & 0xfffe == 0xfffe;
    let unicode = |code: u32, used: usize| {
        let c = char::from_u32(code)
            .filter(|_| code != 0 && !noncharacter(code))
            .ok_or_else(invalid)?;
        Ok((c.to_string().into_bytes(), used))
    };
    let byte = |value: u32, used: usize| match u8::try_from(value) {
        Ok(0) | Err(_) => Err(invalid()),
        Ok(byte) => Ok((vec![byte], used)),
    };
    match text.first().ok_or("a trailing backslash")? {
        b'a' => simple(0x07),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'v' => simple(0x0b),
        b'\\' => simple(b'\\'),
        b'"' => simple(b'"'),
        b'\'' => simple(b'\''),
        b's' => simple(b' '),
        b'x' => byte(digits(2, 16)?, 3),
        b'u' => unicode(digits(4, 16)?, 5),
        b'U' => unicode(digits(8, 16)?, 9),
        b'0'..=b'7' => {
            let octal = text.get(..3).ok_or_else(invalid)?;
            let value = octal.iter().try_fold(0u32, |value, &d| {
                let digit = char::from(d).to_digit(8).ok_or_else(invalid)?;
                Ok::<u32, String>(value * 8 + digit)
            })?;
            byte(value, 3)
        }
        _ => Err(invalid()),
    }
}

/// Specifier expansion of one word: `%%` is `%`; any other specifier would expand.
fn expand_specifiers(word: &[u8]) -> Result<Vec<u8>, String> {
    expand_doubled(word, b'%')
}

/// Environment variable expansion when the command runs: `$$` is `$`; `$NAME` or `${NAME}`
/// would expand.
fn expand_environment(word: &[u8]) -> Result<Vec<u8>, String> {
    expand_doubled(word, b'$')
}

fn expand_doubled(word: &[u8], sign: u8) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(word.len());
    let mut bytes = word.iter();
    while let Some(&b) = bytes.next() {
        if b == sign && bytes.next() != Some(&sign) {
            return Err(format!(
                "{} would expand in {:?}",
                char::from(sign),
                String::from_utf8_lossy(word)
            ));
        }
        out.push(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exec_lines_like_systemd() {
        let words = |value: &str| {
            exec_words(value).map(|w| {
                w.into_iter()
                    .map(|w| String::from_utf8(w).unwrap())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            words("/bin/echo a\"b c\"d 'e\\x41' \\; %%n $$HOME \"\\u00e9\" \\101"),
            Ok(vec![
                "/bin/echo".into(),
                "ab cd".into(),
                "eA".into(),
                ";".into(),
                "%n".into(),
                "$HOME".into(),
                "é".into(),
                "A".into(),
            ])
        );
        assert_eq!(
            exec_words("/bin/x \\xff"),
            Ok(vec![b"/bin/x".to_vec(), vec![0xff]])
        );
        for bad in [
            "/bin/x ; /bin/y",
            "/bin/x %n",
            "/bin/x $HOME",
            "/bin/x \"a",
            "/bin/x \\q",
            "/bin/x \\x00",
            "/bin/x \\u0000",
            "/bin/x \\400",
            "-/bin/x",
            "",
        ] {
            assert!(exec_words(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn reads_unit_files_like_systemd() {
        let unit = "# c\n[Service]\n  Key = a \\\n# skipped\n  b\\\\\nOther=\\\\\\\n c\n";
        let read = settings(unit).unwrap();
        let pairs: Vec<(&str, &str, &str)> = read
            .iter()
            .map(|s| (s.section.as_str(), s.key.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Service", "Key", "a    b\\\\"),
                ("Service", "Other", "\\\\  c")
            ]
        );
        assert!(settings("[Service]\nKey=a\\").is_err());
        assert!(settings("[Service]\nnoequals\n").is_err());
    }
}
