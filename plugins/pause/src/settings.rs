//! The pause policy's settings.

use serde_json::Value;
use waxwing_plugin_sdk::PluginError;

/// What the step asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// Wait this many seconds.
    For { seconds: u32 },
    /// Wait until a person approves.
    UntilApproved,
}

const EXPECTED: &str = r#"expected {"duration": <seconds>} or {}"#;

/// Reads the settings JSON. An empty string counts as no settings. Unknown fields are refused,
/// so a misspelt `duration` fails loudly instead of turning a timed pause into a manual one.
pub fn parse(config: &str) -> Result<Pause, PluginError> {
    if config.trim().is_empty() {
        return Ok(Pause::UntilApproved);
    }
    let value: Value = serde_json::from_str(config).map_err(|err| {
        PluginError::invalid_input(format!(
            "pause settings are not valid JSON ({err}); {EXPECTED}"
        ))
    })?;
    let Value::Object(fields) = value else {
        return Err(PluginError::invalid_input(format!(
            "pause settings must be a JSON object, got {value}; {EXPECTED}"
        )));
    };
    if let Some(unknown) = fields.keys().find(|key| *key != "duration") {
        return Err(PluginError::invalid_input(format!(
            "pause settings have an unknown field `{unknown}`; {EXPECTED}"
        )));
    }
    match fields.get("duration") {
        None | Some(Value::Null) => Ok(Pause::UntilApproved),
        Some(duration) => duration
            .as_u64()
            .and_then(|seconds| u32::try_from(seconds).ok())
            .map(|seconds| Pause::For { seconds })
            .ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "pause duration must be a whole number of seconds from 0 to {}, got {duration}",
                    u32::MAX
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_duration_or_nothing() {
        assert_eq!(parse(r#"{"duration": 60}"#), Ok(Pause::For { seconds: 60 }));
        assert_eq!(parse(r#"{"duration": 0}"#), Ok(Pause::For { seconds: 0 }));
        assert_eq!(parse("{}"), Ok(Pause::UntilApproved));
        assert_eq!(parse(r#"{"duration": null}"#), Ok(Pause::UntilApproved));
        assert_eq!(parse("  "), Ok(Pause::UntilApproved));
    }

    #[test]
    fn refuses_what_it_cannot_read_with_the_reason() {
        let cases = [
            (r#"{"duration": -5}"#, "got -5"),
            (r#"{"duration": 1.5}"#, "got 1.5"),
            (r#"{"duration": "60"}"#, r#"got "60""#),
            (r#"{"duration": 99999999999}"#, "got 99999999999"),
            (r#"{"durration": 60}"#, "unknown field `durration`"),
            ("[60]", "must be a JSON object"),
            ("{duration: 60}", "not valid JSON"),
        ];
        for (config, reason) in cases {
            let err = parse(config).unwrap_err();
            assert!(matches!(err, PluginError::InvalidInput(_)), "{config}");
            assert!(err.message().contains(reason), "{config}: {err}");
        }
    }
}
