//! The man pages and completion scripts committed under `doc/` are what the binary generates
//! now, so a package built from the repository never ships stale ones. When this fails,
//! regenerate them (see README, "Man pages and completions"):
//!
//!     cargo run -q -- man --dir doc/man
//!     for shell in bash zsh fish; do cargo run -q -- completions $shell > doc/completions/ociunit.$shell; done

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

const REGENERATE: &str = "regenerate doc/ as tests/generated.rs says";

fn ociunit(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_ociunit"))
        .args(args)
        .output()
        .expect("cannot run ociunit");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

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

fn doc() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/doc"))
}

#[test]
fn the_committed_man_pages_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    ociunit(&["man", "--dir", out.to_str().unwrap()]);
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
        let script = ociunit(&["completions", shell]);
        let path = doc().join(format!("completions/ociunit.{shell}"));
        let committed = fs::read(&path).unwrap_or_default();
        assert!(
            committed == script,
            "{} is stale: {REGENERATE}",
            path.display()
        );
        assert!(
            String::from_utf8_lossy(&script).contains("explain"),
            "{shell}"
        );
    }
}
