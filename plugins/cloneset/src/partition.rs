//! The partition that leaves exactly a batch's pods on the update revision.
//!
//! A CloneSet's `updateStrategy.partition` is the number, or the percentage of `replicas`
//! (rounded up), of pods kept on the current revision. Like Kruise, a step written as a
//! percentage gets a percentage partition (a 20% step of 5 pods: `"80%"`), so a CloneSet that
//! scales during the step keeps the same share of updated pods; a step written as a count gets
//! a count.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use waxwing_plugin_sdk::Replicas;

/// The partition the takeover sets: every pod stays on the current revision, however the
/// CloneSet scales.
pub fn hold_all() -> IntOrString {
    IntOrString::String("100%".to_owned())
}

/// The partition that puts `planned` of `replicas` pods on the update revision, in the form of
/// the step (`step`). A percentage is used only when the controller resolves it back to exactly
/// the pods to keep, so a batch never gets fewer updated pods than planned (at least one, as the
/// host plans at least one) nor more; above 100 replicas not every count has such a percentage,
/// and the count is used instead.
pub fn desired(replicas: u32, planned: u32, step: Replicas) -> IntOrString {
    let kept = replicas - planned.min(replicas);
    let count = || IntOrString::Int(i32::try_from(kept).unwrap_or(i32::MAX));
    match step {
        Replicas::Count(_) => count(),
        Replicas::Percent(_) => as_percent(kept, replicas).map_or_else(count, IntOrString::String),
    }
}

/// `kept` of `replicas` (more than zero) as the whole percentage that rounds up to it.
fn as_percent(kept: u32, replicas: u32) -> Option<String> {
    let (kept, replicas) = (u64::from(kept), u64::from(replicas));
    let percent = (kept * 100).checked_div(replicas)?;
    ((percent * replicas).div_ceil(100) == kept).then(|| format!("{percent}%"))
}

#[cfg(test)]
mod tests {
    use waxwing_plugin_sdk::intstr;

    use super::*;

    fn percent(text: &str) -> IntOrString {
        IntOrString::String(text.to_owned())
    }

    #[test]
    fn percent_steps_keep_a_percentage() {
        assert_eq!(desired(5, 1, Replicas::Percent(20)), percent("80%"));
        assert_eq!(desired(5, 2, Replicas::Percent(40)), percent("60%"));
        assert_eq!(desired(5, 5, Replicas::Percent(100)), percent("0%"));
        // 50% of 3 plans 2 pods: keeping 1 of 3 is 33%, which rounds up to 1.
        assert_eq!(desired(3, 2, Replicas::Percent(50)), percent("33%"));
    }

    #[test]
    fn count_steps_keep_a_count() {
        assert_eq!(desired(5, 2, Replicas::Count(2)), IntOrString::Int(3));
        assert_eq!(desired(5, 9, Replicas::Count(9)), IntOrString::Int(0));
    }

    #[test]
    fn falls_back_to_a_count_when_no_percentage_is_exact() {
        // Keeping 150 of 201: 74% rounds up to 149, 75% to 151.
        assert_eq!(
            desired(201, 51, Replicas::Percent(25)),
            IntOrString::Int(150)
        );
    }

    #[test]
    fn the_partition_always_resolves_to_the_planned_pods() {
        for replicas in 1..=250 {
            for planned in 1..=replicas {
                let partition = desired(replicas, planned, Replicas::Percent(50));
                let kept = intstr::scaled_value(&partition, replicas, true, "partition").unwrap();
                assert_eq!(
                    replicas - kept,
                    planned,
                    "{planned} of {replicas}: {partition:?}"
                );
            }
        }
    }

    #[test]
    fn nothing_to_resolve_without_replicas() {
        assert_eq!(desired(0, 1, Replicas::Percent(20)), IntOrString::Int(0));
    }
}
