//! One measurement: query, read the answer, judge it by the conditions.

use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::metrics::Metrics;
use waxwing_plugin_sdk::policy::{Decision, PolicyContext};

use crate::condition::Condition;
use crate::value::Value;
use crate::{samples, settings};

/// Measures once: successful is `proceed`, failed `abort`, inconclusive `pause`, each with the
/// measured value and the condition it met in the reason. A failed query or an unreadable
/// answer is a `host-failure`.
pub fn evaluate(ctx: &PolicyContext, metrics: &dyn Metrics) -> Result<Decision, PluginError> {
    let settings = settings::parse(&ctx.config)?;
    let provider = &settings.provider;
    let answer = metrics
        .query(provider, &settings.request)
        .map_err(|err| PluginError::host_failure(format!("the {provider} query failed: {err}")))?;
    let result = samples::parse(&answer).map_err(|err| {
        PluginError::host_failure(format!("cannot read the {provider} answer: {err}"))
    })?;
    judge(
        &result,
        settings.success.as_ref(),
        settings.failure.as_ref(),
    )
}

/// Argo Rollouts' rule (`EvaluateResult`): both conditions are evaluated, and an error in either
/// is the measurement's error. Without conditions a measurement is successful; with only a
/// failure condition it is successful unless that holds; with only a success condition it has
/// failed unless that holds; with both, failure wins, then success, else it is inconclusive.
fn judge(
    result: &Value,
    success: Option<&Condition>,
    failure: Option<&Condition>,
) -> Result<Decision, PluginError> {
    Ok(match (judged(success, result)?, judged(failure, result)?) {
        (_, Some((failure, true))) => Decision::Abort(format!("result {result} meets {failure}")),
        (None | Some((_, true)), _) => Decision::Proceed,
        (Some((success, false)), None) => {
            Decision::Abort(format!("result {result} does not meet {success}"))
        }
        (Some((success, false)), Some((failure, false))) => Decision::Pause(format!(
            "result {result} meets neither {success} nor {failure}"
        )),
    })
}

/// The condition, if set, with whether it holds.
fn judged<'a>(
    condition: Option<&'a Condition>,
    result: &Value,
) -> Result<Option<(&'a Condition, bool)>, PluginError> {
    condition
        .map(|condition| condition.holds(result).map(|holds| (condition, holds)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use waxwing_plugin_sdk::RolloutInfo;
    use waxwing_plugin_sdk::metrics::{MetricQuery, QueryRange};

    use super::*;

    fn ctx(config: &str) -> PolicyContext {
        PolicyContext {
            rollout: RolloutInfo {
                namespace: "shop".into(),
                name: "web".into(),
                rollout_id: None,
            },
            step_index: 2,
            step_count: 4,
            elapsed_ms: 0,
            now_unix_ms: 1_700_000_000_000,
            config: config.into(),
            args: Vec::new(),
        }
    }

    const ANSWER: &str =
        r#"{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.1"]}]}"#;

    #[test]
    fn sends_the_range_and_the_provider_it_was_given() {
        let asked = RefCell::new(Vec::new());
        let metrics = |provider: &str, request: &MetricQuery| {
            asked
                .borrow_mut()
                .push((provider.to_string(), request.clone()));
            Ok(ANSWER.to_string())
        };
        let config = r#"{"provider": "prometheus-eu", "query": "rate(errors[1m])",
            "range": {"lookback": "10m", "step": "15s"}, "successCondition": "all(result, {# < 0.5})"}"#;
        assert_eq!(evaluate(&ctx(config), &metrics), Ok(Decision::Proceed));
        let instant = r#"{"query": "up"}"#;
        assert_eq!(evaluate(&ctx(instant), &metrics), Ok(Decision::Proceed));
        assert_eq!(
            asked.into_inner(),
            [
                (
                    "prometheus-eu".to_string(),
                    MetricQuery {
                        query: "rate(errors[1m])".into(),
                        range: Some(QueryRange {
                            lookback_seconds: 600,
                            step_seconds: 15
                        })
                    }
                ),
                ("prometheus".to_string(), MetricQuery::instant("up")),
            ]
        );
    }

    #[test]
    fn follows_argo_for_every_combination_of_conditions() {
        let success = Condition::parse("successCondition", "result[0] < 0.5").unwrap();
        let failure = Condition::parse("failureCondition", "result[0] > 0.8").unwrap();
        let at = |n: f64| Value::List(vec![Value::Number(n)]);
        let proceed = Ok(Decision::Proceed);
        assert_eq!(judge(&at(0.9), None, None), proceed);
        assert_eq!(judge(&at(0.1), Some(&success), None), proceed);
        assert_eq!(
            judge(&at(0.6), Some(&success), None),
            Ok(Decision::Abort(
                "result [0.6] does not meet successCondition \"result[0] < 0.5\"".into()
            ))
        );
        assert_eq!(judge(&at(0.6), None, Some(&failure)), proceed);
        assert_eq!(
            judge(&at(0.9), None, Some(&failure)),
            Ok(Decision::Abort(
                "result [0.9] meets failureCondition \"result[0] > 0.8\"".into()
            ))
        );
        assert_eq!(judge(&at(0.1), Some(&success), Some(&failure)), proceed);
        assert_eq!(
            judge(&at(0.6), Some(&success), Some(&failure)),
            Ok(Decision::Pause(
                "result [0.6] meets neither successCondition \"result[0] < 0.5\" nor \
                 failureCondition \"result[0] > 0.8\""
                    .into()
            ))
        );
        let always = Condition::parse("successCondition", "true").unwrap();
        assert!(
            matches!(
                judge(&at(0.9), Some(&always), Some(&failure)),
                Ok(Decision::Abort(_))
            ),
            "when both hold, failure wins"
        );
    }

    #[test]
    fn an_error_in_either_condition_is_the_measurement_error() {
        let success = Condition::parse("successCondition", "true").unwrap();
        let failure = Condition::parse("failureCondition", "result[0] > 0.8").unwrap();
        let err = judge(&Value::List(Vec::new()), Some(&success), Some(&failure)).unwrap_err();
        assert!(matches!(err, PluginError::NotReady(_)), "{err}");
    }

    #[test]
    fn query_failures_are_host_failures() {
        let refused = |_: &str, _: &MetricQuery| Err("connection refused".to_string());
        assert_eq!(
            evaluate(&ctx(r#"{"query": "up"}"#), &refused),
            Err(PluginError::host_failure(
                "the prometheus query failed: connection refused"
            ))
        );
        let garbage = |_: &str, _: &MetricQuery| Ok("<html>".to_string());
        let err = evaluate(&ctx(r#"{"query": "up"}"#), &garbage).unwrap_err();
        assert!(
            err.message()
                .starts_with("cannot read the prometheus answer: the answer is not JSON"),
            "{err}"
        );
    }
}
