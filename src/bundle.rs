//! Stage 1: find the bundle, read `config.json`, and turn it into a validated OCI spec.
//!
//! JSON that does not parse is reported with line and column; JSON of the wrong shape with the
//! JSON path of the offending value (serde_path_to_error), because "invalid type" alone does not
//! tell a user which of forty fields to fix.
//!
//! oci-spec-rs is both stricter and looser than the runtimes. Stricter: it requires
//! `process.user`, which runc and crun default to 0:0, and it matches keys exactly where runc's
//! Go decoder ignores case; those are read the runtimes' way first ([`Reading`]). Looser: serde
//! reads an array where an object belongs by position (`"user": [1000, 1000]`) and fills in
//! fields the schema requires (a hugepageLimits entry without `limit` becomes a limit of 0). So
//! the parsed spec is serialized again and compared with the document: an object that came from
//! an array, or a value that came from nowhere, is an error at its path.

#![warn(clippy::indexing_slicing)]

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, InputError, Location, shown};
use crate::regular_file::{self, Links};

/// A bundle that parsed.
#[derive(Debug)]
pub struct Bundle {
    /// The bundle directory (absolute).
    pub dir: PathBuf,
    /// Its `config.json` (absolute).
    pub config: PathBuf,
    /// The document as written, to tell which fields are present and to show their values.
    pub raw: Value,
    pub spec: Spec,
    /// sha256 of `config.json`, recorded in the unit for drift detection.
    pub sha256: String,
    /// What the OCI version check had to say, if anything.
    pub version_note: Option<String>,
    /// What was read the runtimes' way rather than as written.
    pub readings: Vec<Reading>,
}

/// A field the document leaves out or spells differently, read as runc and crun read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub path: String,
    /// The value as written (null when absent).
    pub value: Value,
    pub why: &'static str,
}

impl Bundle {
    /// Loads a bundle from a directory holding `config.json`, or from the `config.json` itself.
    pub fn load(path: &Path) -> Result<Bundle, Error> {
        let config = if path.is_dir() {
            path.join("config.json")
        } else {
            path.to_owned()
        };
        let text = read_config(&config)?;
        let config = std::path::absolute(&config).unwrap_or_else(|_| config.clone());
        Bundle::parse(config, text)
    }

    /// A bundle from the bytes of its `config.json`, which lives at `config` (absolute), without
    /// touching the file system: for [`Bundle::load`], and for the fuzzer, which feeds it any
    /// bytes at all.
    pub fn parse(config: PathBuf, text: Vec<u8>) -> Result<Bundle, Error> {
        let missing = |message: String| InputError {
            file: config.clone(),
            location: Location::File,
            message,
        };
        let dir = config.parent().map(Path::to_owned).unwrap_or_default();
        let sha256 = hex(&Sha256::digest(&text));
        let text =
            String::from_utf8(text).map_err(|err| missing(format!("not UTF-8 text: {err}")))?;

        let raw: Value = serde_json::from_str(&text).map_err(|err| InputError {
            file: config.clone(),
            location: Location::LineColumn(err.line(), err.column()),
            message: format!("not valid JSON: {}", strip_position(&err)),
        })?;
        let version_note = check_version(&config, &raw)?;
        let (spec, readings) = parse_spec(&config, &raw)?;
        Ok(Bundle {
            dir,
            config,
            raw,
            spec,
            sha256,
            version_note,
            readings,
        })
    }
}

/// Reads `config.json`, which must be a regular file (a FIFO would block, `/dev/zero` never
/// end) of at most [`regular_file::MAX_SIZE`] bytes; a symlink to one is fine.
fn read_config(config: &Path) -> Result<Vec<u8>, InputError> {
    regular_file::read(config, Links::Follow).map_err(|why| InputError {
        file: config.to_owned(),
        location: Location::File,
        message: format!("cannot read the bundle's config: {why}"),
    })
}

fn parse_spec(config: &Path, raw: &Value) -> Result<(Spec, Vec<Reading>), Error> {
    let mut document = Cow::Borrowed(raw);
    let readings = read_like_runc(&mut document)
        .map_err(|(path, message)| InputError::at(config, path, message))?;
    // Tracking the path costs an allocation per key, and only an error needs it.
    let spec = match Spec::deserialize(&*document) {
        Ok(spec) => spec,
        Err(_) => serde_path_to_error::deserialize(&*document)
            .map_err(|err| type_error(config, &document, &err))?,
    };
    let mut errors = Vec::new();
    let parsed = serde_json::to_value(&spec).unwrap_or(Value::Null);
    shape_errors(&document, &parsed, &mut Vec::new(), &mut errors);
    if !errors.is_empty() {
        return Err(Error::Input(
            errors
                .into_iter()
                .map(|(path, message)| InputError::at(config, path, message))
                .collect(),
        ));
    }
    Ok((spec, readings))
}

const USER_DEFAULT: &str = "absent: uid 0, gid 0, as runc and crun";
const PAGE_SIZE_SPELLING: &str =
    "read as pageSize: runc's Go JSON decoder matches keys without regard to case";
const LIMIT_SPELLING: &str =
    "read as limit: runc's Go JSON decoder matches keys without regard to case";

/// Rewrites `document` where runc and crun read it differently from oci-spec-rs; says what was
/// rewritten, or why it cannot be. Most documents need no rewriting, and are not copied.
fn read_like_runc(document: &mut Cow<Value>) -> Result<Vec<Reading>, (String, String)> {
    fn limits(document: &Value) -> Option<&Value> {
        document
            .get("linux")?
            .get("resources")?
            .get("hugepageLimits")
    }
    let mut readings = Vec::new();
    // Go's decoder leaves a field at its zero value for null, as for absent.
    let no_user = |process: &Map<String, Value>| process.get("user").is_none_or(Value::is_null);
    if matches!(document.get("process"), Some(Value::Object(process)) if no_user(process)) {
        if let Some(Value::Object(process)) = document.to_mut().get_mut("process") {
            process.insert("user".to_owned(), Value::Object(Map::default()));
        }
        readings.push(Reading {
            path: "process.user".to_owned(),
            value: Value::Null,
            why: USER_DEFAULT,
        });
    }
    let base = "linux.resources.hugepageLimits";
    // A key that spells one of the two otherwise than it is written below, or a second one.
    let misspelled = |entry: &Value| {
        entry.as_object().is_some_and(|entry| {
            entry.keys().any(|key| {
                ["pageSize", "limit"]
                    .iter()
                    .any(|canonical| key.eq_ignore_ascii_case(canonical) && key != canonical)
            })
        })
    };
    if !matches!(limits(document), Some(Value::Array(limits)) if limits.iter().any(misspelled)) {
        return Ok(readings);
    }
    let resources = document
        .to_mut()
        .get_mut("linux")
        .and_then(|l| l.get_mut("resources"));
    let Some(Value::Array(limits)) = resources.and_then(|r| r.get_mut("hugepageLimits")) else {
        return Ok(readings);
    };
    for (index, entry) in limits.iter_mut().enumerate() {
        let Value::Object(entry) = entry else {
            continue;
        };
        let path = format!("{base}[{index}]");
        for (canonical, why) in [("pageSize", PAGE_SIZE_SPELLING), ("limit", LIMIT_SPELLING)] {
            let spellings: Vec<String> = entry
                .keys()
                .filter(|key| key.eq_ignore_ascii_case(canonical))
                .cloned()
                .collect();
            match spellings.as_slice() {
                [key] if key != canonical => {
                    let value = entry.remove(key).unwrap_or_default();
                    readings.push(Reading {
                        path: member(&path, key),
                        value: value.clone(),
                        why,
                    });
                    entry.insert(canonical.to_owned(), value);
                }
                [first, second, ..] => {
                    return Err((
                        member(&path, second),
                        format!(
                            "{} and {} both spell {canonical} (keys are matched without regard \
                             to case, as runc does): keep one",
                            shown(first),
                            shown(second)
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(readings)
}

/// A serde error at the exact place, in words that say what to change.
fn type_error(
    config: &Path,
    document: &Value,
    err: &serde_path_to_error::Error<serde_json::Error>,
) -> InputError {
    let mut path = json_path(err.path());
    let value = value_at_path(document, err.path());
    let mut message = strip_position(err.inner());
    if let Some(field) = missing_field(&message) {
        path = member(&path, field);
        REQUIRED.clone_into(&mut message);
    } else if value.is_some_and(Value::is_array) && message.contains("expected struct") {
        OBJECT_NOT_ARRAY.clone_into(&mut message);
    } else if let Some(better) = value.and_then(|v| integer_message(&message, v)) {
        message = better;
    } else if let Some(Value::String(text)) = value {
        message = message
            .replace(&format!("{text:?}"), &shown(text))
            .replace(&format!("`{text}`"), &shown(text));
    }
    InputError::at(config, path, message)
}

const REQUIRED: &str = "missing: runtime-spec requires this field";
const OBJECT_NOT_ARRAY: &str = "expected an object, found an array";

/// serde's "missing field `NAME`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

fn value_at_path<'a>(document: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    use serde_path_to_error::Segment;
    path.iter()
        .try_fold(document, |value, segment| match segment {
            Segment::Seq { index } => value.get(*index),
            Segment::Map { key } | Segment::Enum { variant: key } => value.get(key.as_str()),
            Segment::Unknown => None,
        })
}

/// serde_json reads an integer beyond u64 as a float and then calls it "floating point";
/// say instead that it is out of range, or not an integer.
fn integer_message(message: &str, value: &Value) -> Option<String> {
    let (min, max): (i128, i128) = match message.rsplit_once(", expected ")?.1 {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    let number = value.as_number()?;
    let range = format!("({min}..{max})");
    if let Some(n) = number.as_i64() {
        return Some(format!("{n} is out of range {range}"));
    }
    if let Some(n) = number.as_u64() {
        return Some(format!("{n} is out of range {range}"));
    }
    let float = number.as_f64()?;
    let integral = float.is_finite() && float.fract() == 0.0;
    // `max + 1` and `min` are powers of two, exact as floats, where `max` itself may round up.
    Some(
        if integral && (float < min as f64 || float >= (max + 1) as f64) {
            format!("{float:.0} is out of range {range}")
        } else {
            format!("expected an integer {range}, found {float}")
        },
    )
}

/// Fields oci-spec-rs fills in when the document leaves them out, where that is what runc and
/// crun do too: a `user` without ids runs as 0:0, and a `p` (FIFO) device has no numbers.
/// Every other field it fills in is one runtime-spec requires. `[]` stands for any index.
const OPTIONAL_DEFAULTS: [&str; 4] = [
    "process.user.uid",
    "process.user.gid",
    "linux.devices[].major",
    "linux.devices[].minor",
];

/// Compares the document with what was parsed from it: an object where the document has an
/// array was read by position; a value where the document has nothing was made up by serde.
/// The path is kept as segments and spelled out only for an error: the generator runs this for
/// every declared bundle at every daemon-reload.
fn shape_errors<'a>(
    document: &'a Value,
    parsed: &'a Value,
    at: &mut Vec<Step<'a>>,
    errors: &mut Vec<(String, String)>,
) {
    match (document, parsed) {
        (Value::Array(_), Value::Object(_)) => {
            errors.push((spelled(at, true), OBJECT_NOT_ARRAY.to_owned()));
        }
        (Value::Array(items), Value::Array(parsed)) => {
            for (index, (item, parsed)) in items.iter().zip(parsed).enumerate() {
                at.push(Step::Index(index));
                shape_errors(item, parsed, at, errors);
                at.pop();
            }
        }
        (Value::Object(fields), Value::Object(parsed)) => {
            for (key, parsed) in parsed {
                at.push(Step::Key(key));
                match fields.get(key) {
                    Some(field) => shape_errors(field, parsed, at, errors),
                    None if parsed.is_null()
                        || OPTIONAL_DEFAULTS.contains(&spelled(at, false).as_str()) => {}
                    None => errors.push((spelled(at, true), REQUIRED.to_owned())),
                }
                at.pop();
            }
        }
        _ => {}
    }
}

/// A step of a path into the document.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The path as [`member`] writes it, with its indices (or, as [`OPTIONAL_DEFAULTS`] writes
/// patterns, with `[]` for any index).
fn spelled(at: &[Step], indices: bool) -> String {
    at.iter()
        .fold(String::new(), |parent, segment| match segment {
            Step::Key(key) => member(&parent, key),
            Step::Index(index) if indices => format!("{parent}[{index}]"),
            Step::Index(_) => format!("{parent}[]"),
        })
}

/// A JSON path as `explain` and every error message write it: `linux.resources.memory.limit`,
/// `process.args[0]`, `linux.resources.unified["memory.high"]`.
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .fold(String::new(), |parent, segment| match segment {
            Segment::Seq { index } => format!("{parent}[{index}]"),
            Segment::Map { key } | Segment::Enum { variant: key } => member(&parent, key),
            Segment::Unknown => format!("{parent}[?]"),
        })
}

/// The path of member `key` of the object at `parent`: dotted when the key is a plain name,
/// quoted in brackets when it holds anything else (`unified["memory.high"]`).
pub fn member(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}[{}]", serde_json::Value::from(key)),
    }
}

/// serde_json appends " at line L column C"; the location is reported separately.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}

/// Accepts 1.x (with `-dev`/`-rc` suffixes, which podman and containerd write), warns on 0.x,
/// refuses 2.x and later: a new major version may change what fields mean.
fn check_version(config: &Path, raw: &Value) -> Result<Option<String>, InputError> {
    let fail = |message: String| InputError::at(config, "ociVersion", message);
    if !raw.is_object() {
        return Err(InputError::at(
            config,
            "",
            "the document must be a JSON object",
        ));
    }
    let version = match raw.get("ociVersion") {
        None => {
            return Err(fail(
                "missing: every config.json names its runtime-spec version".into(),
            ));
        }
        Some(Value::String(version)) => version,
        Some(other) => return Err(fail(format!("expected a version string, found {other}"))),
    };
    let release = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<Option<u64>> = release.split('.').map(|p| p.parse().ok()).collect();
    let major = match parts.as_slice() {
        [Some(major), Some(_), Some(_)] | [Some(major), Some(_)] => *major,
        _ => {
            return Err(fail(format!(
                "{} is not a version of the form 1.2.3",
                shown(version)
            )));
        }
    };
    match major {
        0 => Ok(Some(format!(
            "runtime-spec {version} predates 1.0; fields are read with their 1.x meaning"
        ))),
        1 => Ok(None),
        _ => Err(fail(format!(
            "runtime-spec {version} is not supported: ociunit reads 1.x (and 0.x) configs"
        ))),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests may index")]
mod tests {
    use super::*;

    #[test]
    fn json_paths_read_like_the_document() {
        assert_eq!(member("", "process"), "process");
        assert_eq!(
            member("linux.resources.rdma", "mlx5_1"),
            "linux.resources.rdma.mlx5_1"
        );
        let unified = member("linux.resources.unified", "memory.high");
        assert_eq!(unified, r#"linux.resources.unified["memory.high"]"#);
        assert_eq!(member("a", "q\"uote"), r#"a["q\"uote"]"#);
    }

    /// Each error's path and message.
    type Problems = Vec<(String, String)>;

    #[allow(
        clippy::needless_pass_by_value,
        reason = "the tests pass json! documents"
    )]
    fn parse(document: Value) -> Result<(Spec, Vec<Reading>), Problems> {
        parse_spec(Path::new("c.json"), &document).map_err(|err| match err {
            Error::Input(errors) => errors
                .into_iter()
                .map(|e| match e.location {
                    Location::Path(path) => (path, e.message),
                    other => panic!("{other:?}"),
                })
                .collect(),
            other => panic!("{other}"),
        })
    }

    #[allow(
        clippy::needless_pass_by_value,
        reason = "the tests pass json! documents"
    )]
    fn config(process: Value, resources: Value) -> Value {
        serde_json::json!({
            "ociVersion": "1.2.0",
            "process": process,
            "linux": { "resources": resources },
        })
    }

    fn process() -> Value {
        serde_json::json!({ "user": { "uid": 0, "gid": 0 }, "args": ["sh"], "cwd": "/" })
    }

    #[test]
    fn an_object_read_from_an_array_is_an_error_at_its_path() {
        let mut user = process();
        user["user"] = serde_json::json!([1000, 1000]);
        let errors = parse(config(user, serde_json::json!({ "pids": [5] }))).unwrap_err();
        assert_eq!(
            errors,
            [
                ("linux.resources.pids".into(), OBJECT_NOT_ARRAY.into()),
                ("process.user".into(), OBJECT_NOT_ARRAY.into()),
            ]
        );
        let errors = parse(config(process(), serde_json::json!([]))).unwrap_err();
        assert_eq!(
            errors,
            [("linux.resources".into(), OBJECT_NOT_ARRAY.into())]
        );
    }

    #[test]
    fn a_required_field_serde_would_fill_in_is_an_error_at_its_path() {
        let resources = serde_json::json!({
            "hugepageLimits": [{ "pageSize": "2MB", "limit": 1 }, { "pageSize": "2MB" }],
            "blockIO": { "throttleReadBpsDevice": [{ "major": 8, "rate": 1 }] },
        });
        let errors = parse(config(process(), resources)).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "linux.resources.blockIO.throttleReadBpsDevice[0].minor",
                "linux.resources.hugepageLimits[1].limit",
            ]
        );
        assert!(errors.iter().all(|(_, m)| m == REQUIRED));
        // Without a default, serde itself misses it; the error names the field, not its parent.
        let mut no_cwd = process();
        no_cwd.as_object_mut().unwrap().remove("cwd");
        let errors = parse(config(no_cwd, serde_json::json!({}))).unwrap_err();
        assert_eq!(errors, [("process.cwd".into(), REQUIRED.into())]);
    }

    #[test]
    fn what_runc_accepts_is_read_as_runc_reads_it() {
        let mut no_user = process();
        no_user.as_object_mut().unwrap().remove("user");
        let resources = serde_json::json!({
            "hugepageLimits": [{ "pagesize": "2MB", "LIMIT": 1 }],
        });
        let (spec, readings) = parse(config(no_user, resources)).unwrap();
        let user = spec.process().as_ref().unwrap().user();
        assert_eq!((user.uid(), user.gid()), (0, 0));
        let limit = &spec.linux().as_ref().unwrap().resources().as_ref().unwrap();
        let limit = &limit.hugepage_limits().as_ref().unwrap()[0];
        assert_eq!((limit.page_size().as_str(), limit.limit()), ("2MB", 1));
        let paths: Vec<&str> = readings.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "process.user",
                "linux.resources.hugepageLimits[0].pagesize",
                "linux.resources.hugepageLimits[0].LIMIT",
            ]
        );
        let mut null_user = process();
        null_user["user"] = Value::Null;
        let (_, readings) = parse(config(null_user, serde_json::json!({}))).unwrap();
        assert_eq!(readings[0].path, "process.user");
        let twice = serde_json::json!({
            "hugepageLimits": [{ "pageSize": "2MB", "pagesize": "1GB", "limit": 1 }],
        });
        let errors = parse(config(process(), twice)).unwrap_err();
        assert_eq!(errors[0].0, "linux.resources.hugepageLimits[0].pagesize");
    }

    #[test]
    fn integers_out_of_range_say_the_range() {
        let message = |text: &str, expected: &str| {
            let value: Value = serde_json::from_str(text).unwrap();
            integer_message(
                &format!("invalid type: whatever, expected {expected}"),
                &value,
            )
        };
        let u64_range = "(0..18446744073709551615)";
        assert_eq!(
            message("18446744073709551616", "u64").unwrap(),
            format!("18446744073709551616 is out of range {u64_range}")
        );
        assert_eq!(
            message("-1", "u64").unwrap(),
            format!("-1 is out of range {u64_range}")
        );
        assert_eq!(
            message("9223372036854775808", "i64").unwrap(),
            "9223372036854775808 is out of range (-9223372036854775808..9223372036854775807)"
        );
        assert_eq!(
            message("1.5", "u32").unwrap(),
            "expected an integer (0..4294967295), found 1.5"
        );
        assert_eq!(
            message("1e3", "u16").unwrap(),
            "expected an integer (0..65535), found 1000"
        );
        assert_eq!(message("1", "a string"), None);
    }

    #[test]
    fn versions() {
        let check =
            |v: Value| check_version(Path::new("c.json"), &serde_json::json!({"ociVersion": v}));
        assert_eq!(check("1.0.2-dev".into()), Ok(None));
        assert_eq!(check("1.3.0".into()), Ok(None));
        assert!(check("0.5.0".into()).unwrap().is_some());
        assert!(check("2.0.0".into()).is_err());
        assert!(check("one".into()).is_err());
        assert!(check(1.into()).is_err());
    }
}
