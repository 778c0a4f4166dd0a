//! `linux.resources.hugepageLimits` → launcher writes to `hugetlb.<size>.max`; systemd has no
//! hugetlb property.

use oci_spec::runtime::LinuxHugepageLimit;

use super::Translation;
use crate::error::shown;
use crate::plan::Destination;
use crate::plan::value::Limit;

/// The kernel names hugetlb files by page size with an upper-case unit: `2MB`, `1GB`, `64KB`.
/// The number must be written as the kernel writes it: `+4KB` or `02MB` would name no file
/// (and a `+` no interface file at all: the fuzzer found that one).
fn page_size(text: &str) -> Result<&str, String> {
    let digits = text.trim_end_matches(['K', 'M', 'G', 'B']);
    let unit = &text[digits.len()..];
    let number: u64 = digits.parse().unwrap_or(0);
    let as_the_kernel_writes_it = number.to_string() == digits;
    if !["KB", "MB", "GB"].contains(&unit) || !number.is_power_of_two() || !as_the_kernel_writes_it
    {
        return Err(format!(
            "{} is not a huge page size as the kernel names them (a power of two followed by \
             KB, MB or GB, e.g. 2MB)",
            shown(text)
        ));
    }
    Ok(text)
}

pub fn translate(limits: &[LinuxHugepageLimit], t: &mut Translation) {
    for (index, entry) in limits.iter().enumerate() {
        let path = format!("linux.resources.hugepageLimits[{index}]");
        match (page_size(entry.page_size()), Limit::from_oci(entry.limit())) {
            (Ok(size), Ok(limit)) => {
                t.field(path, entry).to(Destination::launcher(
                    &format!("hugetlb.{size}.max"),
                    limit.cgroup(),
                    "systemd has no hugetlb property",
                ));
            }
            (Err(why), _) => {
                t.field(format!("{path}.pageSize"), entry.page_size())
                    .to(Destination::invalid(why));
            }
            (_, Err(why)) => {
                t.field(format!("{path}.limit"), entry.limit())
                    .to(Destination::invalid(why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_sizes() {
        assert!(super::page_size("2MB").is_ok());
        assert!(super::page_size("1GB").is_ok());
        assert!(super::page_size("64KB").is_ok());
        assert!(super::page_size("64kB").is_err());
        assert!(super::page_size("3MB").is_err());
        assert!(super::page_size("MB").is_err());
        assert!(super::page_size("2M").is_err());
        assert!(super::page_size("+4KB").is_err());
        assert!(super::page_size("02MB").is_err());
    }
}
