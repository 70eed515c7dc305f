//! Values written as a count or a percentage (`maxSurge: 3`, `maxUnavailable: "25%"`).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::types::PluginError;

/// Resolves `value` against `total` as Kubernetes does: a count as is, a percentage of `total`
/// rounded up or down. `field` names the value for the error message.
pub fn scaled_value(
    value: &IntOrString,
    total: u32,
    round_up: bool,
    field: &str,
) -> Result<u32, PluginError> {
    match value {
        IntOrString::Int(count) => u32::try_from(*count).map_err(|_| {
            PluginError::invalid_input(format!("{field} must not be negative, got {count}"))
        }),
        IntOrString::String(text) => {
            let percent = text
                .strip_suffix('%')
                .and_then(|digits| digits.parse::<u64>().ok())
                .ok_or_else(|| {
                    PluginError::invalid_input(format!(
                        "{field} must be a whole number or a percentage like \"25%\", got \"{text}\""
                    ))
                })?;
            let scaled = percent * u64::from(total);
            let resolved = if round_up {
                scaled.div_ceil(100)
            } else {
                scaled / 100
            };
            u32::try_from(resolved).map_err(|_| {
                PluginError::invalid_input(format!("{field} \"{text}\" of {total} is too large"))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaled(value: IntOrString, total: u32, round_up: bool) -> Result<u32, PluginError> {
        scaled_value(&value, total, round_up, "maxSurge")
    }

    #[test]
    fn percentages_round_in_the_asked_direction() {
        assert_eq!(scaled(IntOrString::String("25%".into()), 10, true), Ok(3));
        assert_eq!(scaled(IntOrString::String("25%".into()), 10, false), Ok(2));
        assert_eq!(scaled(IntOrString::String("100%".into()), 7, false), Ok(7));
        assert_eq!(scaled(IntOrString::String("0%".into()), 7, true), Ok(0));
        assert_eq!(scaled(IntOrString::Int(4), 10, true), Ok(4));
    }

    #[test]
    fn malformed_values_name_the_field() {
        for bad in [
            IntOrString::Int(-1),
            IntOrString::String("25".into()),
            IntOrString::String("x%".into()),
        ] {
            let err = scaled(bad, 10, true).unwrap_err();
            assert!(err.message().starts_with("maxSurge"), "{err}");
        }
    }
}
