//! The settings of one measurement: the plugin's ConfigMap `config`, the metric's provider
//! settings and its conditions, merged by the host into one JSON object.

use serde_json::{Map, Value};
use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::metrics::{MetricQuery, QueryRange};

use crate::condition::Condition;
use crate::duration;

/// The provider queried when the settings name none.
pub const DEFAULT_PROVIDER: &str = "prometheus";

/// The step of a range query that sets none, in seconds.
const DEFAULT_STEP_SECONDS: u32 = 60;

/// Prometheus refuses a range query with more points per series than this.
const MAX_POINTS: u64 = 11_000;

const FIELDS: &str = "provider, query, range, successCondition and failureCondition";

/// What to query and how to judge the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub provider: String,
    pub request: MetricQuery,
    pub success: Option<Condition>,
    pub failure: Option<Condition>,
}

/// Reads the settings, refusing unknown fields so a misspelt condition fails loudly instead of
/// being ignored.
pub fn parse(config: &str) -> Result<Settings, PluginError> {
    let value: Value = serde_json::from_str(if config.trim().is_empty() {
        "{}"
    } else {
        config
    })
    .map_err(|err| invalid(format!("are not valid JSON ({err})")))?;
    let Value::Object(fields) = value else {
        return Err(invalid(format!("must be a JSON object, got {value}")));
    };
    if let Some(unknown) = fields.keys().find(|key| !known(key)) {
        return Err(invalid(format!(
            "have an unknown field `{unknown}`{}; the plugin reads {FIELDS}",
            hint(unknown)
        )));
    }
    let provider = match text(&fields, "provider")? {
        Some(provider) => provider.to_string(),
        None => DEFAULT_PROVIDER.to_string(),
    };
    let query = text(&fields, "query")?.ok_or_else(|| {
        invalid(
            "have no `query`: set the PromQL to measure, as in \
             provider: {prometheus: {query: \"sum(rate(http_requests_total[1m]))\"}}",
        )
    })?;
    let condition = |field: &'static str| {
        text(&fields, field)?
            .map(|text| Condition::parse(field, text))
            .transpose()
    };
    Ok(Settings {
        provider,
        request: MetricQuery {
            query: query.to_string(),
            range: fields.get("range").map(range).transpose()?.flatten(),
        },
        success: condition("successCondition")?,
        failure: condition("failureCondition")?,
    })
}

fn known(field: &str) -> bool {
    matches!(
        field,
        "provider" | "query" | "range" | "successCondition" | "failureCondition"
    )
}

/// Argo Rollouts' Prometheus settings that have another place here.
fn hint(field: &str) -> &'static str {
    match field {
        "address" | "timeout" | "insecure" | "headers" | "authentication" => {
            " (the controller holds how to reach a provider; the metric only names it with \
             `provider`)"
        }
        "rangeQuery" => " (write a range query's window as range: {lookback: 5m, step: 30s})",
        _ => "",
    }
}

/// A string setting; unset, null and empty count as not set.
fn text<'a>(fields: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, PluginError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(invalid(format!(
            "have `{field}` {other}, which is not a string"
        ))),
    }
}

/// `{"lookback": "5m", "step": "30s"}`; null means an instant query.
fn range(value: &Value) -> Result<Option<QueryRange>, PluginError> {
    const EXPECTED: &str = "expected range: {lookback: <duration>, step: <duration, default 60s>}";
    let fields = match value {
        Value::Null => return Ok(None),
        Value::Object(fields) => fields,
        other => return Err(invalid(format!("have range {other}; {EXPECTED}"))),
    };
    if let Some(unknown) = fields
        .keys()
        .find(|key| *key != "lookback" && *key != "step")
    {
        return Err(invalid(format!(
            "have an unknown field `range.{unknown}`; {EXPECTED}"
        )));
    }
    let seconds = |field: &str| -> Result<Option<u32>, PluginError> {
        text(fields, field)?
            .map(|text| {
                duration::seconds(text).map_err(|err| invalid(format!("have range.{field} {err}")))
            })
            .transpose()
    };
    let lookback_seconds = seconds("lookback")?
        .ok_or_else(|| invalid(format!("have a range without a lookback; {EXPECTED}")))?;
    let step_seconds = seconds("step")?.unwrap_or(DEFAULT_STEP_SECONDS);
    if lookback_seconds == 0 || step_seconds == 0 {
        return Err(invalid(format!(
            "have a range of {lookback_seconds}s at a step of {step_seconds}s; both must be at \
             least 1s"
        )));
    }
    let points = u64::from(lookback_seconds / step_seconds) + 1;
    if points > MAX_POINTS {
        return Err(invalid(format!(
            "have a range of {lookback_seconds}s at a step of {step_seconds}s, {points} points \
             per series; Prometheus answers at most {MAX_POINTS}: make the step longer"
        )));
    }
    Ok(Some(QueryRange {
        lookback_seconds,
        step_seconds,
    }))
}

fn invalid(what: impl AsRef<str>) -> PluginError {
    PluginError::invalid_input(format!("the prometheus settings {}", what.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_range_query_with_conditions() {
        let settings = parse(
            r#"{"provider": "thanos", "query": "up", "range": {"lookback": "5m", "step": "30s"},
                "successCondition": "result[0] < 0.05", "failureCondition": ""}"#,
        )
        .unwrap();
        assert_eq!(settings.provider, "thanos");
        assert_eq!(
            settings.request,
            MetricQuery {
                query: "up".into(),
                range: Some(QueryRange {
                    lookback_seconds: 300,
                    step_seconds: 30
                })
            }
        );
        assert_eq!(
            settings.success.unwrap().to_string(),
            "successCondition \"result[0] < 0.05\""
        );
        assert_eq!(settings.failure, None, "an empty condition is no condition");
    }

    #[test]
    fn defaults_the_provider_the_step_and_an_instant_query() {
        let settings = parse(r#"{"query": "up", "range": {"lookback": "1h"}}"#).unwrap();
        assert_eq!(settings.provider, "prometheus");
        assert_eq!(
            settings.request.range,
            Some(QueryRange {
                lookback_seconds: 3600,
                step_seconds: 60
            })
        );
        let instant = parse(r#"{"query": "up", "range": null, "provider": null}"#).unwrap();
        assert_eq!(instant.request, MetricQuery::instant("up"));
        assert_eq!(instant.provider, "prometheus");
    }

    #[test]
    fn refuses_what_it_cannot_read_with_the_reason() {
        let cases = [
            ("", "have no `query`"),
            ("not json", "are not valid JSON"),
            ("[]", "must be a JSON object, got []"),
            (r#"{"query": 5}"#, "have `query` 5, which is not a string"),
            (
                r#"{"query": "up", "sucessCondition": "true"}"#,
                "unknown field `sucessCondition`; the plugin reads provider, query",
            ),
            (
                r#"{"query": "up", "address": "http://prom:9090"}"#,
                "the controller holds how to reach a provider",
            ),
            (
                r#"{"query": "up", "rangeQuery": {}}"#,
                "range: {lookback: 5m, step: 30s}",
            ),
            (
                r#"{"query": "up", "range": "5m"}"#,
                "have range \"5m\"; expected range: {lookback",
            ),
            (
                r#"{"query": "up", "range": {}}"#,
                "a range without a lookback",
            ),
            (
                r#"{"query": "up", "range": {"lookback": "5m", "every": "1m"}}"#,
                "unknown field `range.every`",
            ),
            (
                r#"{"query": "up", "range": {"lookback": "5 minutes"}}"#,
                "range.lookback \"5 minutes\" is not a duration",
            ),
            (
                r#"{"query": "up", "range": {"lookback": "5m", "step": "0s"}}"#,
                "both must be at least 1s",
            ),
            (
                r#"{"query": "up", "range": {"lookback": "1w", "step": "1s"}}"#,
                "604801 points per series; Prometheus answers at most 11000",
            ),
            (
                r#"{"query": "up", "failureCondition": "result >"}"#,
                "failureCondition \"result >\" cannot be parsed at column 9",
            ),
        ];
        for (config, reason) in cases {
            let err = parse(config).unwrap_err();
            assert!(matches!(err, PluginError::InvalidInput(_)), "{config}");
            assert!(err.message().contains(reason), "{config}: {err}");
        }
    }
}
