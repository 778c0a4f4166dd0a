//! The man pages and completion scripts committed under `doc/` are what the binary generates
//! now, so a package built from the repository never ships stale ones. When this fails,
//! regenerate them (see README, "Man pages and completions"):
//!
//!     cargo run -q -- man --dir doc/man
//!     for shell in bash zsh fish; do cargo run -q -- completions $shell > doc/completions/ociunit.$shell; done

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::test::{Test, repo};

const REGENERATE: &str = "regenerate doc/ as tests/generated.rs says";

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, fs::read(entry.path()).unwrap())
        })
        .collect()
}

fn doc() -> PathBuf {
    repo().join("doc")
}

#[test]
fn the_committed_man_pages_are_current() {
    let test = Test::new();
    let out = test.path("man");
    test.clone()
        .arg("man")
        .arg("--dir")
        .arg(&out)
        .status(0)
        .run();
    let generated = files(&out);
    let committed = files(&doc().join("man"));
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "{REGENERATE}"
    );
    for (name, text) in &generated {
        assert!(
            committed[name] == *text,
            "doc/man/{name} is stale: {REGENERATE}"
        );
    }
    for page in ["ociunit.1", "ociunit-compile.1", "ociunit-launch.1"] {
        assert!(generated.contains_key(page), "{page}");
    }
}

#[test]
fn the_committed_completions_are_current() {
    for shell in ["bash", "zsh", "fish"] {
        let script = Test::new()
            .args(["completions", shell])
            .status(0)
            .run()
            .stdout;
        let path = doc().join(format!("completions/ociunit.{shell}"));
        let committed = fs::read(&path).unwrap_or_default();
        assert!(
            committed == script.as_bytes(),
            "{} is stale: {REGENERATE}",
            path.display()
        );
        assert!(script.contains("explain"), "{shell}");
    }
}
