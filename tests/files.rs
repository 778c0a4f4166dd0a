//! Files that are not files: `config.json` or a `-o` target that is a FIFO, a device, a symlink
//! or a unit generated from another bundle. The real `ociunit` binary must neither hang, nor read
//! without end, nor replace what it should not. Every run has a deadline, so a regression fails
//! instead of hanging the test suite.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::test::{Output, SYSTEM_252, Test, bundle};

/// Shorter than the default: each of these runs takes milliseconds unless it hangs.
const DEADLINE: Duration = Duration::from_secs(20);

fn ociunit<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    Test::new().args(args).deadline(DEADLINE).run()
}

fn compile(bundle: &Path, extra: &[&str]) -> Output {
    let bundle = bundle.to_str().unwrap();
    ociunit([&["compile", bundle][..], &SYSTEM_252, extra].concat())
}

fn minimal() -> PathBuf {
    bundle("minimal")
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// A config.json that is a FIFO (nobody writes to it) or a symlink to an endless device is
/// refused at once, exit 2, naming the file.
#[test]
fn config_json_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    fs::create_dir(&fifo).unwrap();
    mkfifo(&fifo.join("config.json"));
    let zero = dir.path().join("zero");
    fs::create_dir(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.join("config.json")).unwrap();
    let urandom = dir.path().join("urandom.json");
    std::os::unix::fs::symlink("/dev/urandom", &urandom).unwrap();
    for (bundle, config, what) in [
        (&fifo, fifo.join("config.json"), "a FIFO"),
        (&zero, zero.join("config.json"), "a character device"),
        (&urandom, urandom.clone(), "a character device"),
    ] {
        let run = compile(bundle, &[]);
        assert_eq!(run.status, Some(2), "{}", run.stderr);
        assert_eq!(
            run.stderr.trim_end(),
            format!(
                "ociunit: {}: cannot read the bundle's config: {what}, not a regular file",
                config.display()
            )
        );
        assert!(run.stdout.is_empty());
    }
}

/// A symlink to a regular config.json is fine; a config over the size limit is refused.
#[test]
fn config_json_through_a_symlink_and_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let linked = dir.path().join("linked");
    fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(minimal().join("config.json"), linked.join("config.json")).unwrap();
    let run = compile(&linked, &[]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);

    let large = dir.path().join("large.json");
    let file = fs::File::create(&large).unwrap();
    file.set_len(16 * 1024 * 1024 + 1).unwrap();
    let run = compile(&large, &[]);
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read the bundle's config: larger than 16 MiB"),
        "{}",
        run.stderr
    );
}

/// `-o` onto a device or FIFO is refused, `--force` or not, without reading or replacing it.
#[test]
fn output_onto_a_device_or_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.service");
    mkfifo(&fifo);
    for (target, what) in [
        (Path::new("/dev/full"), "a character device"),
        (Path::new("/dev/null"), "a character device"),
        (fifo.as_path(), "a FIFO"),
    ] {
        for force in [&[][..], &["--force"]] {
            let run = compile(
                &minimal(),
                &[&["-o", target.to_str().unwrap()], force].concat(),
            );
            assert_eq!(run.status, Some(1), "{target:?} {force:?}: {}", run.stderr);
            assert!(
                run.stderr.starts_with(&format!(
                    "ociunit: {}: {what}, not a regular file",
                    target.display()
                )),
                "{}",
                run.stderr
            );
        }
    }
    let kind = fs::symlink_metadata("/dev/full").unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &kind.file_type()
    ));
    assert!(!Path::new("/dev/full.ociunit-backup").exists());
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the FIFO: {left:?}");
}

/// `-o` onto a symlink is refused, `--force` or not: renaming over the link would replace the
/// link, not the unit it points to.
#[test]
fn output_onto_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("real.service");
    let run = compile(&minimal(), &["-o", unit.to_str().unwrap()]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let before = fs::read(&unit).unwrap();
    let link = dir.path().join("link.service");
    std::os::unix::fs::symlink(&unit, &link).unwrap();
    for force in [&[][..], &["--force"]] {
        let run = compile(
            &minimal(),
            &[&["-o", link.to_str().unwrap()], force].concat(),
        );
        assert_eq!(run.status, Some(1), "{}", run.stderr);
        assert!(run.stderr.contains("a symbolic link"), "{}", run.stderr);
    }
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(fs::read(&unit).unwrap(), before);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// A unit generated from another bundle is not replaced without `--force`; with it, it is
/// kept as a backup. The same bundle named another way (`..`) is the same bundle.
#[test]
fn output_over_another_bundles_unit() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("app.service");
    let unit_arg = unit.to_str().unwrap();
    let other = bundle("res-memory");
    let run = compile(&other, &["-o", unit_arg]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let theirs = fs::read(&unit).unwrap();

    let run = compile(&minimal(), &["-o", unit_arg]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "was generated from another bundle ({})",
            other.join("config.json").display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&unit).unwrap(), theirs);

    let run = compile(&minimal(), &["-o", unit_arg, "--force"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let backup = dir.path().join("app.service.ociunit-backup");
    assert_eq!(fs::read(&backup).unwrap(), theirs);
    assert!(
        run.stderr.contains("kept the previous file as"),
        "{}",
        run.stderr
    );

    let roundabout = minimal().join("../minimal");
    let run = compile(&roundabout, &["-o", unit_arg]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
}

/// `-o -` is stdout, as everywhere else: no file named `-`.
#[test]
fn output_dash_is_stdout() {
    let test = Test::new()
        .arg("compile")
        .arg(minimal())
        .args(SYSTEM_252)
        .args(["-o", "-"])
        .deadline(DEADLINE)
        .status(0)
        .stdout_contains("[X-Ociunit]");
    test.run();
    assert_eq!(fs::read_dir(test.scratch()).unwrap().count(), 0);
}

/// `diff`, `list` and `uninstall` meet a FIFO in the unit directory without hanging.
#[test]
fn lifecycle_commands_do_not_read_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let unit_dir = dir.path().to_str().unwrap();
    mkfifo(&dir.path().join("minimal.service"));
    let minimal = minimal();
    let mut diff = vec!["diff", minimal.to_str().unwrap()];
    diff.extend(SYSTEM_252);
    diff.extend(["--unit-dir", unit_dir]);
    let run = ociunit(diff);
    assert_eq!(
        run.status,
        Some(2),
        "diff exits 2 on errors: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
    let run = ociunit(["list", "--system", "--unit-dir", unit_dir, "--json"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(listed["format"], "ociunit-list/1");
    assert_eq!(listed["units"], serde_json::json!([]));
    let run = ociunit(["uninstall", "minimal", "--system", "--unit-dir", unit_dir]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
}
