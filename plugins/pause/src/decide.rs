//! The decision for one evaluation.

use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::policy::{Decision, PolicyContext, WaitReason};

use crate::settings::{self, Pause};

/// Decides for the current step: proceed once the pause has lasted its duration, wait for the
/// rest of it, or wait for a person when no duration is set.
pub fn evaluate(ctx: &PolicyContext) -> Result<Decision, PluginError> {
    let step = format!("step {} of {}", ctx.step_index, ctx.step_count);
    Ok(match settings::parse(&ctx.config)? {
        Pause::For { seconds } => {
            let total_ms = u64::from(seconds) * 1000;
            match total_ms.checked_sub(ctx.elapsed_ms) {
                None | Some(0) => Decision::Proceed,
                Some(after_ms) => Decision::Wait(WaitReason {
                    after_ms,
                    reason: format!(
                        "{step} pauses for {}, {} left",
                        human(u64::from(seconds)),
                        human(after_ms.div_ceil(1000))
                    ),
                }),
            }
        }
        Pause::UntilApproved => {
            let (namespace, name) = (&ctx.rollout.namespace, &ctx.rollout.name);
            Decision::Pause(format!(
                "manual approval required: {step} of rollout {namespace}/{name} waits for a \
                 person; approve with `kubectl-kruise rollout approve rollout/{name} -n {namespace}`"
            ))
        }
    })
}

/// Seconds as `1h2m3s`, leaving out zero parts.
fn human(seconds: u64) -> String {
    let (hours, minutes, secs) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut text = String::new();
    for (amount, unit) in [(hours, "h"), (minutes, "m"), (secs, "s")] {
        if amount > 0 {
            text.push_str(&format!("{amount}{unit}"));
        }
    }
    if text.is_empty() { "0s".into() } else { text }
}

#[cfg(test)]
mod tests {
    use waxwing_plugin_sdk::RolloutInfo;

    use super::*;

    fn ctx(config: &str, elapsed_ms: u64) -> PolicyContext {
        PolicyContext {
            rollout: RolloutInfo {
                namespace: "shop".into(),
                name: "web".into(),
                rollout_id: None,
            },
            step_index: 2,
            step_count: 4,
            elapsed_ms,
            now_unix_ms: 1_700_000_000_000,
            config: config.into(),
            args: Vec::new(),
        }
    }

    #[test]
    fn waits_for_the_remaining_time_then_proceeds() {
        let wait = evaluate(&ctx(r#"{"duration": 90}"#, 30_500)).unwrap();
        assert_eq!(
            wait,
            Decision::Wait(WaitReason {
                after_ms: 59_500,
                reason: "step 2 of 4 pauses for 1m30s, 1m left".into()
            })
        );
        assert_eq!(
            evaluate(&ctx(r#"{"duration": 90}"#, 90_000)),
            Ok(Decision::Proceed)
        );
        assert_eq!(
            evaluate(&ctx(r#"{"duration": 90}"#, 95_000)),
            Ok(Decision::Proceed)
        );
        assert_eq!(
            evaluate(&ctx(r#"{"duration": 0}"#, 0)),
            Ok(Decision::Proceed)
        );
    }

    #[test]
    fn without_duration_waits_for_approval() {
        let Ok(Decision::Pause(reason)) = evaluate(&ctx("{}", 10)) else {
            panic!("expected a pause")
        };
        assert!(
            reason.starts_with("manual approval required: step 2 of 4 of rollout shop/web"),
            "{reason}"
        );
    }

    #[test]
    fn formats_durations_for_people() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(59), "59s");
        assert_eq!(human(3600), "1h");
        assert_eq!(human(3723), "1h2m3s");
    }
}
