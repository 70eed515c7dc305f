//! Durations as Prometheus and Argo Rollouts users write them: `30s`, `5m`, `1h30m`, `2d`, `1w`.

/// Seconds per unit.
const UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("m", 60),
    ("h", 3600),
    ("d", 86_400),
    ("w", 604_800),
];

const EXPECTED: &str = "write it like 30s, 5m, 1h or 1h30m (units s, m, h, d, w)";

/// The whole seconds `text` spans.
pub fn seconds(text: &str) -> Result<u32, String> {
    let not_a_duration = || format!("{text:?} is not a duration: {EXPECTED}");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(not_a_duration());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let amount: u64 = rest[..digits].parse().map_err(|_| not_a_duration())?;
        rest = &rest[digits..];
        if rest.starts_with("ms") {
            return Err(format!(
                "{text:?} is shorter than a second: ranges are measured in whole seconds"
            ));
        }
        let units = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let per_unit = UNITS
            .iter()
            .find(|(unit, _)| *unit == &rest[..units])
            .map(|(_, seconds)| *seconds)
            .ok_or_else(not_a_duration)?;
        rest = &rest[units..];
        total = amount
            .checked_mul(per_unit)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(|| format!("{text:?} is too long"))?;
    }
    u32::try_from(total).map_err(|_| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_up_units() {
        let cases = [
            ("30s", 30),
            ("5m", 300),
            ("1h", 3600),
            ("1h30m", 5400),
            ("2d", 172_800),
            ("1w", 604_800),
            ("0s", 0),
        ];
        for (text, expected) in cases {
            assert_eq!(seconds(text), Ok(expected), "{text}");
        }
        assert!(seconds("90").is_err(), "a bare number has no unit");
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        let cases = [
            ("", "is not a duration: write it like 30s"),
            ("5x", "\"5x\" is not a duration"),
            ("m", "\"m\" is not a duration"),
            ("1.5m", "\"1.5m\" is not a duration"),
            ("-5m", "is not a duration"),
            ("500ms", "shorter than a second"),
            ("999999999w", "\"999999999w\" is too long"),
        ];
        for (text, message) in cases {
            let err = seconds(text).unwrap_err();
            assert!(err.contains(message), "{text}: {err}");
        }
    }
}
