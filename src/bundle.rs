//! Stage 1: find the bundle, read `config.json`, and turn it into a validated OCI spec.
//!
//! JSON that does not parse is reported with line and column; JSON of the wrong shape with the
//! JSON path of the offending value (serde_path_to_error), because "invalid type" alone does not
//! tell a user which of forty fields to fix.

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, InputError, Location};
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
}

impl Bundle {
    /// Loads a bundle from a directory holding `config.json`, or from the `config.json` itself.
    pub fn load(path: &Path) -> Result<Bundle, Error> {
        let config = if path.is_dir() {
            path.join("config.json")
        } else {
            path.to_owned()
        };
        let missing = |message: String| InputError {
            file: config.clone(),
            location: Location::File,
            message,
        };
        let text = read_config(&config)?;
        let config = std::path::absolute(&config).unwrap_or_else(|_| config.clone());
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
        let spec = parse_spec(&config, &text)?;
        Ok(Bundle {
            dir,
            config,
            raw,
            spec,
            sha256,
            version_note,
        })
    }

    /// The value at a dotted path in the document, for explain rows.
    pub fn value_at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.raw, |value, key| value.get(key))
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

fn parse_spec(config: &Path, text: &str) -> Result<Spec, InputError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = json_path(err.path());
        let inner = err.into_inner();
        InputError {
            file: config.to_owned(),
            location: Location::Path(path),
            message: strip_position(&inner),
        }
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
                "{version:?} is not a version of the form 1.2.3"
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
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
