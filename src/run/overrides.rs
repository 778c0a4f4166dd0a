//! `ociunit run -p KEY=VALUE`: systemd-run's property syntax, for every property of the table
//! that has a parser (`plan::property::assign`, shared with the bundle's `org.systemd.property.*`
//! annotations). Each override becomes one more mapping after the bundle's, so it wins as a later
//! assignment does in a unit file, and `explain`-style reports show where it came from.

use serde_json::json;

use crate::error::Error;
use crate::plan::Mapping;
use crate::plan::property::{self, Refusal};

/// Parses one `KEY=VALUE` into a mapping.
pub fn parse(assignment: &str, systemd: u32) -> Result<Mapping, Error> {
    let (key, value) = assignment
        .split_once('=')
        .ok_or_else(|| Error::Usage(format!("-p {assignment:?}: expected KEY=VALUE")))?;
    let destination = property::assign(key, value, systemd).map_err(|refusal| {
        Error::Usage(match refusal {
            Refusal::UnknownKey => format!(
                "-p {key}: not a property ociunit run can set; supported: {}",
                property::settable_keys().join(", ")
            ),
            Refusal::Value(why) => format!("-p {assignment:?}: {why}"),
        })
    })?;
    Ok(Mapping {
        path: format!("--property {key}"),
        value: json!(value),
        conversion: None,
        destinations: vec![destination],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("Nice=5", 257).is_err());
        assert!(parse("MemoryMax", 257).is_err());
        assert!(parse("MemoryMax=0", 257).is_err());
        assert!(parse("CPUWeight=0", 257).is_err());
        assert!(parse("CPUQuotaPeriodSec=20ms", 257).is_err());
        let mapping = parse("MemoryMax=1G", 257).unwrap();
        assert_eq!(mapping.path, "--property MemoryMax");
    }

    #[test]
    fn every_settable_property_of_the_table_is_accepted() {
        use crate::plan::property::{ALL, tests::example};
        let settable: Vec<_> = ALL.iter().filter(|spec| spec.settable()).collect();
        assert!(settable.len() >= 12);
        for spec in settable {
            let (value, _) = example(spec);
            let assignment = format!("{}={value}", spec.key);
            let mapping = parse(&assignment, 257).unwrap_or_else(|err| panic!("{err}"));
            assert!(
                matches!(&mapping.destinations[..], [crate::plan::Destination::Property { property, .. }] if property.key == spec.key),
                "{assignment}: {mapping:?}"
            );
        }
    }
}
