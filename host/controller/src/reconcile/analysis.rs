//! Resolving a Rollout's analysis: its AnalysisTemplates looked up in the controller's cache
//! of them, their args filled in, each metric turned into the machine's [`MetricSpec`].

use std::collections::BTreeMap;
use std::time::Duration;

use futures::FutureExt as _;
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::{Map, Value};
use waxwing_api::analysis::{AnalysisTemplate, Metric, RolloutAnalysis};
use waxwing_api::v1beta1::Rollout;
use waxwing_machine::{BackgroundSpec, MetricSpec, ResolvedAnalysis};

/// Argo Rollouts' default: measurement errors in a row tolerated.
const DEFAULT_CONSECUTIVE_ERROR_LIMIT: u32 = 4;

/// The analysis of the status's current step and the background analysis. `args` are the
/// values the controller provides (namespace, rollout, revisions...).
pub fn resolve(
    templates: &Store<AnalysisTemplate>,
    rollout: &Rollout,
    args: &[(String, String)],
) -> ResolvedAnalysis {
    let namespace = rollout.metadata.namespace.as_deref().unwrap_or_default();
    let lookup = Lookup {
        templates,
        namespace,
    };
    let strategy = &rollout.spec.strategy;
    let (steps, background) = (strategy.steps(), strategy.analysis());
    let current = rollout
        .status
        .as_ref()
        .map_or(0, |status| status.current_step_index);
    let mut resolved = ResolvedAnalysis::default();
    let step = usize::try_from(current - 1)
        .ok()
        .and_then(|position| steps.get(position))
        .and_then(|step| step.analysis.as_ref());
    if let Some(analysis) = step {
        resolved
            .steps
            .insert(current, metrics(&lookup, analysis, args, Some(1)));
    }
    if let Some(background) = background {
        resolved.background = Some(BackgroundSpec {
            starting_step: background
                .starting_step
                .and_then(|step| u32::try_from(step).ok())
                .unwrap_or(1),
            metrics: metrics(&lookup, &background.analysis, args, None),
        });
    }
    resolved
}

/// The templates of one namespace, from the cache.
struct Lookup<'a> {
    templates: &'a Store<AnalysisTemplate>,
    namespace: &'a str,
}

impl Lookup<'_> {
    fn get(&self, name: &str) -> Result<std::sync::Arc<AnalysisTemplate>, String> {
        if self.templates.wait_until_ready().now_or_never().is_none() {
            return Err(
                "the AnalysisTemplates are not loaded yet (is the AnalysisTemplate CRD installed, \
                 and may the controller list and watch them?)"
                    .into(),
            );
        }
        self.templates
            .get(&ObjectRef::new(name).within(self.namespace))
            .ok_or_else(|| format!("AnalysisTemplate {name} does not exist in the namespace"))
    }
}

/// Every metric of the analysis's templates; `default_count` for metrics without a count.
fn metrics(
    lookup: &Lookup<'_>,
    analysis: &RolloutAnalysis,
    provided: &[(String, String)],
    default_count: Option<u32>,
) -> Result<Vec<MetricSpec>, String> {
    let mut specs = Vec::new();
    for reference in &analysis.templates {
        let name = &reference.template_name;
        let template = lookup.get(name)?;
        let args = arguments(name, &template, analysis, provided)?;
        for metric in &template.spec.metrics {
            specs.push(
                metric_spec(name, metric, &args, default_count)
                    .map_err(|e| format!("AnalysisTemplate {name}, metric {}: {e}", metric.name))?,
            );
        }
    }
    Ok(specs)
}

/// The template's args: the controller's values, then the template's defaults, then the
/// Rollout's values, later ones winning. Every arg the template declares must have a value.
fn arguments(
    name: &str,
    template: &AnalysisTemplate,
    analysis: &RolloutAnalysis,
    provided: &[(String, String)],
) -> Result<BTreeMap<String, String>, String> {
    let mut args: BTreeMap<String, String> = provided.iter().cloned().collect();
    for arg in &template.spec.args {
        if let Some(value) = &arg.value {
            args.insert(arg.name.clone(), value.clone());
        }
    }
    for arg in &analysis.args {
        if let Some(value) = &arg.value {
            args.insert(arg.name.clone(), value.clone());
        }
    }
    if let Some(missing) = template
        .spec
        .args
        .iter()
        .find(|arg| !args.contains_key(&arg.name))
    {
        return Err(format!(
            "AnalysisTemplate {name} needs the arg {:?}: give it a value in the template or \
             in the Rollout's analysis args",
            missing.name
        ));
    }
    Ok(args)
}

fn metric_spec(
    template: &str,
    metric: &Metric,
    args: &BTreeMap<String, String>,
    default_count: Option<u32>,
) -> Result<MetricSpec, String> {
    let mut providers = metric.provider.iter();
    let (Some((policy, settings)), None) = (providers.next(), providers.next()) else {
        return Err("provider must name exactly one policy, as `prometheus: {query: ...}`".into());
    };
    let Value::Object(mut config) = fill(settings, args)? else {
        return Err(format!("provider {policy} must be a mapping of settings"));
    };
    for (key, condition) in [
        ("successCondition", &metric.success_condition),
        ("failureCondition", &metric.failure_condition),
    ] {
        if let Some(condition) = condition {
            config.insert(key.into(), Value::String(fill_text(condition, args)?));
        }
    }
    let limit = |value: Option<i32>, default: u32| {
        value.map_or(Ok(default), |v| {
            u32::try_from(v).map_err(|_| format!("a limit of {v} is below zero"))
        })
    };
    Ok(MetricSpec {
        name: format!("{template}/{}", metric.name),
        policy: policy.clone(),
        config: Value::Object(config).to_string(),
        interval: metric.interval.as_deref().map(parse_duration).transpose()?,
        count: match metric.count {
            Some(count) => Some(u32::try_from(count).map_err(|_| "count is below zero")?),
            None => default_count,
        },
        initial_delay: metric
            .initial_delay
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .unwrap_or_default(),
        failure_limit: limit(metric.failure_limit, 0)?,
        inconclusive_limit: limit(metric.inconclusive_limit, 0)?,
        consecutive_error_limit: limit(
            metric.consecutive_error_limit,
            DEFAULT_CONSECUTIVE_ERROR_LIMIT,
        )?,
    })
}

/// `value` with `{{args.NAME}}` replaced in every string.
fn fill(value: &Value, args: &BTreeMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => Value::String(fill_text(text, args)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| fill(item, args))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, item)| Ok((key.clone(), fill(item, args)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
        other => other.clone(),
    })
}

fn fill_text(text: &str, args: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in {text:?}"))?;
        let reference = after[..end].trim();
        let name = reference.strip_prefix("args.").ok_or_else(|| {
            format!("{{{{{reference}}}}} in {text:?} is not an argument: write {{{{args.NAME}}}}")
        })?;
        let value = args
            .get(name)
            .ok_or_else(|| format!("{text:?} uses the arg {name:?}, which has no value"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A Go-style duration: `30s`, `5m`, `1h30m`, `500ms`, `1.5s`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("{text:?} is not a duration such as 30s, 5m or 1h30m");
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let seconds = match &rest[digits..digits + unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += number * seconds;
        rest = &rest[digits + unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn args() -> BTreeMap<String, String> {
        [("namespace", "shop"), ("canary-pod-template-hash", "7f9c")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn durations_read_like_go() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        for bad in ["", "10", "5 minutes", "3d", "s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn args_are_filled_in_every_string() {
        let filled = fill(
            &json!({"query": "rate(x{namespace=\"{{args.namespace}}\",hash=\"{{ args.canary-pod-template-hash }}\"}[1m])", "n": 3}),
            &args(),
        )
        .unwrap();
        assert_eq!(
            filled,
            json!({"query": "rate(x{namespace=\"shop\",hash=\"7f9c\"}[1m])", "n": 3})
        );
    }

    #[test]
    fn unknown_args_and_bad_references_are_refused() {
        let missing = fill_text("{{args.service}}", &args()).unwrap_err();
        assert!(missing.contains("\"service\""), "{missing}");
        assert!(fill_text("{{ workload }}", &args()).is_err());
        assert!(fill_text("{{args.namespace", &args()).is_err());
    }

    #[test]
    fn a_metric_becomes_a_spec_with_its_conditions_and_defaults() {
        let metric = Metric {
            name: "errors".into(),
            provider: [(
                "prometheus".to_owned(),
                json!({"query": "errors{ns=\"{{args.namespace}}\"}"}),
            )]
            .into_iter()
            .collect(),
            interval: Some("10s".into()),
            count: Some(3),
            success_condition: Some("result[0] < 0.05".into()),
            failure_limit: Some(1),
            ..Metric::default()
        };
        let spec = metric_spec("health", &metric, &args(), Some(1)).unwrap();
        assert_eq!(spec.name, "health/errors");
        assert_eq!(spec.policy, "prometheus");
        let config: Value = serde_json::from_str(&spec.config).unwrap();
        assert_eq!(
            config,
            json!({"query": "errors{ns=\"shop\"}", "successCondition": "result[0] < 0.05"})
        );
        assert_eq!(
            (spec.interval, spec.count, spec.failure_limit),
            (Some(Duration::from_secs(10)), Some(3), 1)
        );
        assert_eq!(
            spec.consecutive_error_limit,
            DEFAULT_CONSECUTIVE_ERROR_LIMIT
        );
    }
}
