//! Replica math: how many pods a step puts on the new revision, and how many of those may be
//! unready while the step still counts as done.
//!
//! Kruise resolves these numbers in its BatchRelease controller (`control/util.go`
//! `CalculateBatchReplicas`, `context/context.go` `allowedUnavailable`). Here they are resolved
//! once, by the machine, and handed to the workload plugin as plain counts.

use std::fmt;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A count or a percentage, as a Rollout writes replicas and failure thresholds (`5` or `"20%"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntOrPercent {
    Count(u32),
    Percent(u32),
}

impl IntOrPercent {
    /// Reads a Kubernetes int-or-string. Strings must be a whole percentage such as `"20%"`
    /// (Kubernetes' own parser accepts nothing else); negative values are refused.
    pub fn parse(value: &IntOrString) -> Result<Self, String> {
        match value {
            IntOrString::Int(count) => u32::try_from(*count)
                .map(Self::Count)
                .map_err(|_| format!("{count} is negative")),
            IntOrString::String(text) => text
                .strip_suffix('%')
                .and_then(|digits| digits.parse::<u32>().ok())
                .map(Self::Percent)
                .ok_or_else(|| {
                    format!("{text:?} is neither a count nor a whole percentage like \"20%\"")
                }),
        }
    }

    /// The value scaled against `total`, percentages rounded up (Kubernetes'
    /// `GetScaledValueFromIntOrPercent(.., roundUp=true)`, which Kruise uses for both step
    /// replicas and failure thresholds).
    pub fn scale_up(self, total: u32) -> u32 {
        match self {
            Self::Count(count) => count,
            Self::Percent(percent) => {
                let scaled = (u64::from(percent) * u64::from(total)).div_ceil(100);
                u32::try_from(scaled).unwrap_or(u32::MAX)
            }
        }
    }
}

impl fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count(count) => write!(f, "{count}"),
            Self::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// Pods on the new revision once step `step` (1-based) is done.
///
/// A step's own value is resolved against the workload's replicas (percentages rounded up) and
/// clamped to them. The result never drops below an earlier step's: the plugin contract promises
/// that a batch never shrinks, even when a plan mixes counts and percentages in a way that
/// would. With a positive step value and at least one replica this is always at least one pod.
/// Steps past the end of the plan count as the last step.
pub fn planned_replicas(steps: &[IntOrPercent], step: usize, workload_replicas: u32) -> u32 {
    steps
        .iter()
        .take(step.max(1))
        .map(|value| value.scale_up(workload_replicas).min(workload_replicas))
        .max()
        .unwrap_or(0)
}

/// How many of `planned` updated pods may be unready while the batch still counts as ready.
///
/// Unset means zero: Kruise documents "the workload's maxUnavailable" for an unset threshold,
/// but its batch check actually tolerates nothing, and the workload plugin's `observe` does not
/// report maxUnavailable, so zero is both the Kruise behaviour and the safe choice.
/// Percentages are resolved against the planned pods and rounded up, as Kruise's
/// `allowedUnavailable` does. The result is capped at `planned - 1`: Kruise never calls a batch
/// ready while none of its new pods is ready, and folding that rule into the number keeps every
/// workload plugin honest about it.
pub fn tolerated_failures(threshold: Option<IntOrPercent>, planned: u32) -> u32 {
    threshold
        .map_or(0, |value| value.scale_up(planned))
        .min(planned.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(value: i32) -> IntOrString {
        IntOrString::Int(value)
    }

    fn text(value: &str) -> IntOrString {
        IntOrString::String(value.to_owned())
    }

    #[test]
    fn parses_counts_and_whole_percentages() {
        assert_eq!(IntOrPercent::parse(&int(5)), Ok(IntOrPercent::Count(5)));
        assert_eq!(
            IntOrPercent::parse(&text("20%")),
            Ok(IntOrPercent::Percent(20))
        );
        assert_eq!(
            IntOrPercent::parse(&text("0%")),
            Ok(IntOrPercent::Percent(0))
        );
    }

    #[test]
    fn refuses_negative_and_malformed_values_with_the_value_in_the_message() {
        for (value, expected) in [
            (int(-1), "-1 is negative"),
            (text("20"), "\"20\" is neither"),
            (text("20.5%"), "\"20.5%\" is neither"),
            (text("-5%"), "\"-5%\" is neither"),
            (text("%"), "\"%\" is neither"),
        ] {
            let err = IntOrPercent::parse(&value).unwrap_err();
            assert!(err.starts_with(expected), "{value:?}: {err}");
        }
    }

    #[test]
    fn percentages_round_up() {
        let cases = [
            (IntOrPercent::Percent(20), 10, 2),
            (IntOrPercent::Percent(20), 11, 3),
            (IntOrPercent::Percent(1), 1, 1),
            (IntOrPercent::Percent(50), 3, 2),
            (IntOrPercent::Percent(100), 7, 7),
            (IntOrPercent::Percent(0), 7, 0),
            (IntOrPercent::Count(4), 2, 4),
        ];
        for (value, total, expected) in cases {
            assert_eq!(value.scale_up(total), expected, "{value} of {total}");
        }
    }

    #[test]
    fn planned_replicas_clamp_to_the_workload_and_never_shrink() {
        use IntOrPercent::{Count, Percent};
        let steps = [Count(1), Percent(50), Count(3), Percent(100)];
        let planned: Vec<u32> = (1..=4)
            .map(|step| planned_replicas(&steps, step, 10))
            .collect();
        // Step 3 asks for 3 pods after step 2 had 5: the batch stays at 5.
        assert_eq!(planned, [1, 5, 5, 10]);
        assert_eq!(
            planned_replicas(&[Count(20)], 1, 4),
            4,
            "clamped to the workload"
        );
        assert_eq!(
            planned_replicas(&[Percent(10)], 1, 0),
            0,
            "an empty workload"
        );
        assert_eq!(planned_replicas(&[Percent(1)], 1, 3), 1, "at least one pod");
        assert_eq!(
            planned_replicas(&steps, 9, 10),
            10,
            "past the end is the last step"
        );
    }

    #[test]
    fn tolerated_failures_follow_kruise() {
        use IntOrPercent::{Count, Percent};
        let cases = [
            (None, 10, 0),
            (Some(Count(2)), 10, 2),
            (Some(Percent(20)), 10, 2),
            (Some(Percent(25)), 10, 3),
            // Never all of them: at least one new pod must be ready.
            (Some(Count(5)), 5, 4),
            (Some(Percent(100)), 1, 0),
            (Some(Count(3)), 0, 0),
        ];
        for (threshold, planned, expected) in cases {
            assert_eq!(
                tolerated_failures(threshold, planned),
                expected,
                "{threshold:?} of {planned}"
            );
        }
    }
}
