//! `ociunit diff`: what `install` would change, as a unified diff; exits like diff(1) so it
//! can gate a CI job: 0 identical, 1 different, 2 error.

use std::path::Path;

use similar::TextDiff;

/// The unified diff from the installed text (if any) to the compiled one; `None` if equal.
pub fn unified(installed_path: &Path, installed: Option<&str>, compiled: &str) -> Option<String> {
    let old = installed.unwrap_or_default();
    if old == compiled {
        return None;
    }
    let old_header = match installed {
        Some(_) => installed_path.display().to_string(),
        None => "/dev/null".to_owned(),
    };
    let diff = TextDiff::from_lines(old, compiled)
        .unified_diff()
        .context_radius(3)
        .header(&old_header, "compiled")
        .to_string();
    Some(diff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_read_like_diff_u() {
        let path = Path::new("/u/x.service");
        assert_eq!(unified(path, Some("a\nb\n"), "a\nb\n"), None);
        let diff = unified(path, Some("a\nMemoryMax=1\nc\n"), "a\nMemoryMax=2\nc\n").unwrap();
        assert!(
            diff.starts_with("--- /u/x.service\n+++ compiled\n"),
            "{diff}"
        );
        assert!(diff.contains("-MemoryMax=1\n+MemoryMax=2\n"), "{diff}");
        let new = unified(path, None, "a\n").unwrap();
        assert!(new.starts_with("--- /dev/null\n"), "{new}");
    }
}
