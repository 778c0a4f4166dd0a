//! The values of systemd's cgroup properties as types, each with its spellings: systemd syntax
//! (unit files, `systemd-run -p`), the D-Bus value, and the cgroup file the launcher writes. So
//! "no limit" has one spelling per output (`infinity`, `u64::MAX`, `max`), chosen here only.

use crate::error::shown;

/// A byte or task limit, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Finite(u64),
    Infinity,
}

impl Limit {
    /// An OCI byte or task count: -1 is unlimited, anything else below 0 is refused. What 0
    /// means depends on the field.
    pub fn from_oci(value: i64) -> Result<Limit, String> {
        match value {
            -1 => Ok(Limit::Infinity),
            v if v < -1 => Err(format!("{v} is neither a limit nor -1 (unlimited)")),
            v => Ok(Limit::Finite(v.unsigned_abs())),
        }
    }

    /// systemd's size syntax: a number with an optional K, M, G or T (powers of 1024), or
    /// `infinity`.
    pub fn parse(text: &str) -> Option<Limit> {
        if text == "infinity" {
            return Some(Limit::Infinity);
        }
        let (digits, shift) = match text.char_indices().last()? {
            (i, 'K') => (&text[..i], 10),
            (i, 'M') => (&text[..i], 20),
            (i, 'G') => (&text[..i], 30),
            (i, 'T') => (&text[..i], 40),
            _ => (text, 0),
        };
        digits
            .parse::<u64>()
            .ok()?
            .checked_mul(1 << shift)
            .map(Limit::Finite)
    }

    /// A cgroup file's syntax: a number or `max`.
    pub fn parse_cgroup(text: &str) -> Option<Limit> {
        match text {
            "max" => Some(Limit::Infinity),
            _ => text.parse().ok().map(Limit::Finite),
        }
    }

    /// systemd reads `u64::MAX` as infinity.
    pub fn from_dbus(value: u64) -> Limit {
        match value {
            u64::MAX => Limit::Infinity,
            v => Limit::Finite(v),
        }
    }

    /// The unit-file spelling, which is also what `systemctl show` prints.
    pub fn unit(self) -> String {
        match self {
            Limit::Finite(v) => v.to_string(),
            Limit::Infinity => "infinity".to_owned(),
        }
    }

    pub fn dbus(self) -> u64 {
        match self {
            Limit::Finite(v) => v,
            Limit::Infinity => u64::MAX,
        }
    }

    pub fn cgroup(self) -> String {
        match self {
            Limit::Finite(v) => v.to_string(),
            Limit::Infinity => "max".to_owned(),
        }
    }
}

/// `CPUWeight=`/`IOWeight=`, `cpu.weight`/`io.weight`: 1..10000.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weight(u64);

impl Weight {
    pub const RANGE: std::ops::RangeInclusive<u64> = 1..=10_000;

    pub fn new(value: u64) -> Option<Weight> {
        Weight::RANGE.contains(&value).then_some(Weight(value))
    }

    pub fn parse(text: &str) -> Option<Weight> {
        Weight::new(text.parse().ok()?)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// The kernel's (and systemd's) default `cpu.max` period.
pub const DEFAULT_PERIOD: u64 = 100_000;

/// systemd 257 stores `CPUQuota=` with two decimals (systemd#33171); before, a daemon-reload
/// re-read it as a whole percentage, so we round up to 1 % there, like runc and crun.
pub const FINE_QUOTA_SINCE: u32 = 257;

/// systemd reads `CPUQuota=` as an `int` of hundredths of a percent; this is its largest whole
/// percent, so that a quota valid for one target is valid for all, whatever their rounding.
const MAX_QUOTA_PER_SEC: u64 = i32::MAX as u64 * 100 / 10_000 * 10_000;

/// `cpu.max`: a quota (µs per period) or none, and the period in µs (1000..1000000). Both
/// `CPUQuota=` and `CPUQuotaPeriodSec=` express a part of it; the launcher writes it exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuMax {
    pub quota: Limit,
    pub period: u64,
}

impl CpuMax {
    pub const PERIODS: std::ops::RangeInclusive<u64> = 1_000..=1_000_000;

    /// `CPUQuota=` syntax, a percentage with up to two decimals, at the default period.
    pub fn parse_percent(text: &str) -> Option<CpuMax> {
        let number = text.strip_suffix('%')?;
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let hundredths: u64 = format!("{fraction:0<2}").parse().ok()?;
        let per_sec = whole
            .parse::<u64>()
            .ok()?
            .checked_mul(10_000)?
            .checked_add(hundredths * 100)?;
        (per_sec > 0).then_some(CpuMax {
            quota: Limit::Finite(per_sec / 10),
            period: DEFAULT_PERIOD,
        })
    }

    /// The file's syntax: "QUOTA PERIOD", "max PERIOD", or either without the period.
    pub fn parse_cgroup(text: &str) -> Option<CpuMax> {
        let mut words = text.split_whitespace();
        let quota = Limit::parse_cgroup(words.next()?)?;
        let period = match words.next() {
            Some(period) => period.parse().ok()?,
            None => DEFAULT_PERIOD,
        };
        let valid = words.next().is_none()
            && CpuMax::PERIODS.contains(&period)
            && quota != Limit::Finite(0);
        valid.then_some(CpuMax { quota, period })
    }

    /// `CPUQuotaPerSecUSec`, rounded up to what `systemd` keeps; an error past what any
    /// systemd can hold, or without a quota.
    pub fn per_sec(self, systemd: u32) -> Result<u64, String> {
        let Limit::Finite(quota) = self.quota else {
            return Err("no quota to express as CPUQuota=".to_owned());
        };
        let step = if systemd >= FINE_QUOTA_SINCE {
            100
        } else {
            10_000
        };
        let period = self.period;
        let exact = quota.saturating_mul(1_000_000).div_ceil(period);
        if exact > MAX_QUOTA_PER_SEC {
            return Err(format!(
                "{quota}/{period} is {}% of a CPU, more than systemd's CPUQuota= can hold ({}%)",
                exact / 10_000,
                MAX_QUOTA_PER_SEC / 10_000
            ));
        }
        Ok(exact.div_ceil(step) * step)
    }

    /// `CPUQuota=` for a `CPUQuotaPerSecUSec`: a percentage with at most two decimals.
    pub fn percent(per_sec: u64) -> String {
        let percent = format!("{}.{:02}", per_sec / 10_000, per_sec % 10_000 / 100);
        let percent = percent.trim_end_matches('0').trim_end_matches('.');
        format!("{percent}%")
    }

    pub fn cgroup(self) -> String {
        format!("{} {}", self.quota.cgroup(), self.period)
    }
}

/// `AllowedCPUs=`/`AllowedMemoryNodes=`: a list such as `0-3,6` and the bit mask systemd reads
/// for it on D-Bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuSet {
    list: String,
    mask: Vec<u8>,
}

/// Largest CPU or node index accepted; the kernel's NR_CPUS maximum is 8192.
const MAX_CPU: usize = 8191;

impl CpuSet {
    /// The list as given, which is also the unit file's and the cgroup file's spelling.
    pub fn parse(list: &str) -> Result<CpuSet, String> {
        let bad = |part: &str| {
            format!(
                "{} in {} is not an index or a range such as 0-3",
                shown(part),
                shown(list)
            )
        };
        let mut mask = Vec::new();
        for part in list.split(',').map(str::trim) {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (a.parse::<usize>(), b.parse::<usize>()),
                None => (part.parse::<usize>(), part.parse::<usize>()),
            };
            let (Ok(first), Ok(last)) = (first, last) else {
                return Err(bad(part));
            };
            if first > last || last > MAX_CPU {
                return Err(bad(part));
            }
            if mask.len() <= last / 8 {
                mask.resize(last / 8 + 1, 0u8);
            }
            for index in first..=last {
                mask[index / 8] |= 1 << (index % 8);
            }
        }
        Ok(CpuSet {
            list: list.to_owned(),
            mask,
        })
    }

    /// The set systemd reports as a bit mask, listed as ranges.
    pub fn decode(mask: &[u8]) -> CpuSet {
        let set = |i: usize| {
            mask.get(i / 8)
                .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
        };
        let mut ranges = Vec::new();
        let mut index = 0;
        while index < mask.len() * 8 {
            if !set(index) {
                index += 1;
                continue;
            }
            let first = index;
            while set(index + 1) {
                index += 1;
            }
            ranges.push(if first == index {
                first.to_string()
            } else {
                format!("{first}-{index}")
            });
            index += 1;
        }
        CpuSet {
            list: ranges.join(","),
            mask: mask.to_vec(),
        }
    }

    pub fn list(&self) -> &str {
        &self.list
    }

    /// Byte i bit j is index 8i+j (little-endian bytes; youki once sent them big-endian,
    /// runc#3808 fixed the same bug).
    pub fn encode(&self) -> Vec<u8> {
        self.mask.clone()
    }
}

/// systemd's boolean syntax (`parse_boolean()`).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_have_one_spelling_per_output() {
        assert_eq!(Limit::parse("512M"), Some(Limit::Finite(512 << 20)));
        assert_eq!(
            Limit::parse("1000000000"),
            Some(Limit::Finite(1_000_000_000))
        );
        assert_eq!(Limit::parse("infinity"), Some(Limit::Infinity));
        assert_eq!(Limit::parse("max"), None);
        assert_eq!(Limit::parse("12X"), None);
        assert_eq!(Limit::parse("99999999T"), None);
        assert_eq!(Limit::parse_cgroup("max"), Some(Limit::Infinity));
        assert_eq!(Limit::parse_cgroup("infinity"), None);
        assert_eq!(Limit::from_oci(-1), Ok(Limit::Infinity));
        assert!(Limit::from_oci(-2).is_err());
        let none = Limit::Infinity;
        assert_eq!(
            (none.unit(), none.dbus(), none.cgroup()),
            ("infinity".into(), u64::MAX, "max".into())
        );
        assert_eq!(Limit::from_dbus(u64::MAX), none);
        assert_eq!(Limit::from_dbus(5), Limit::Finite(5));
    }

    #[test]
    fn percentages_and_cpu_max() {
        let quota = |text| CpuMax::parse_percent(text).map(|m| (m.quota, m.period));
        assert_eq!(quota("50%"), Some((Limit::Finite(50_000), DEFAULT_PERIOD)));
        assert_eq!(
            quota("12.5%"),
            Some((Limit::Finite(12_500), DEFAULT_PERIOD))
        );
        assert_eq!(quota("0%"), None);
        assert_eq!(quota("1.234%"), None);
        assert_eq!(quota("50"), None);
        let max = |text| CpuMax::parse_cgroup(text).map(|m| (m.quota, m.period));
        assert_eq!(max("50000 100000"), Some((Limit::Finite(50000), 100000)));
        assert_eq!(max("max 20000"), Some((Limit::Infinity, 20000)));
        assert_eq!(max("max"), Some((Limit::Infinity, 100000)));
        assert_eq!(max("0 100000"), None);
        assert_eq!(max("1 2 3"), None);
        assert_eq!(max("1 10"), None);
        assert_eq!(CpuMax::percent(123_500), "12.35%");
        assert_eq!(CpuMax::percent(2_500_000), "250%");
    }

    #[test]
    fn cpu_sets_encode_little_endian_and_decode_to_ranges() {
        let mask = |list| CpuSet::parse(list).map(|set| set.encode());
        assert_eq!(mask("0,2-4,7,9-10").unwrap(), [157, 6]);
        assert_eq!(mask("0").unwrap(), [1]);
        assert_eq!(mask("8").unwrap(), [0, 1]);
        assert!(mask("3-1").is_err());
        assert!(mask("a").is_err());
        assert!(mask("1,,2").is_err());
        assert!(mask("99999").is_err());
        assert_eq!(CpuSet::decode(&[157, 6]).list(), "0,2-4,7,9-10");
        assert_eq!(CpuSet::decode(&[0xff, 0xff]).list(), "0-15");
        assert_eq!(CpuSet::decode(&[]).list(), "");
        assert_eq!(CpuSet::decode(&[0]).list(), "");
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("yes"), Some(true));
        assert_eq!(parse_bool("OFF"), Some(false));
        assert_eq!(parse_bool("2"), None);
    }
}
