//! Golden fixtures, read and checked natively (feature `fixtures`).
//!
//! A fixture is one JSON file, `plugins/<name>/fixtures/<case>.json`:
//! `{"description", "call", "args": {<WIT parameter>: <value>}, "expect": <return value>}`,
//! with WIT values written as the contract's types serialise (see the crate docs). The same
//! files run through the wasm runtime; running them natively keeps them honest while the
//! plugin's logic is developed. Comparison follows the runner's rules: a string that holds a
//! JSON object or array is compared parsed, and an expected `{"err": {"<case>": "text"}}`
//! matches an error of that case whose message contains the text.
//!
//! A policy fixture may can the answers of the `metrics` import in an optional top-level field:
//! `"metrics": [{"provider": "prometheus", "query": "<text>", "answer": {<data>}},
//! {"provider": "prometheus", "query": "up", "error": "connection refused"}]`. A query gets the
//! first entry with its provider and exact query text, instant and range queries alike; any
//! other query fails, so a fixture notices queries it did not expect.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::json_text::JsonText;
use crate::metrics::{MetricQuery, Metrics};
use crate::types::PluginError;

/// One golden case.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub path: PathBuf,
    pub description: String,
    pub call: String,
    pub args: Map<String, Value>,
    pub expect: Value,
    /// Canned answers of the `metrics` import; empty when the fixture has none.
    pub metrics: Vec<CannedQuery>,
}

/// One canned answer of the `metrics` import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedQuery {
    pub provider: String,
    pub query: String,
    /// The provider's JSON answer, or the host's error message.
    pub answer: Result<String, String>,
}

/// A `metrics` entry as written: exactly one of `answer` (inline JSON or JSON text) and `error`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedEntry {
    provider: String,
    query: String,
    #[serde(default)]
    answer: Option<JsonText>,
    #[serde(default)]
    error: Option<String>,
}

impl TryFrom<CannedEntry> for CannedQuery {
    type Error = String;

    fn try_from(entry: CannedEntry) -> Result<Self, String> {
        let answer = match (entry.answer, entry.error) {
            (Some(answer), None) => Ok(answer.0),
            (None, Some(error)) => Err(error),
            _ => {
                return Err(format!(
                    "the entry for query {:?} needs exactly one of `answer` and `error`",
                    entry.query
                ));
            }
        };
        Ok(Self {
            provider: entry.provider,
            query: entry.query,
            answer,
        })
    }
}

/// The fixture's canned answers serve the plugin's queries.
impl Metrics for Fixture {
    fn query(&self, provider: &str, request: &MetricQuery) -> Result<String, String> {
        self.metrics
            .iter()
            .find(|canned| canned.provider == provider && canned.query == request.query)
            .map(|canned| canned.answer.clone())
            .unwrap_or_else(|| {
                Err(format!(
                    "no canned answer for query {:?} to provider {provider:?} in the fixture",
                    request.query
                ))
            })
    }
}

impl Fixture {
    /// The argument `name` as the plugin's type.
    pub fn arg<T: DeserializeOwned>(&self, name: &str) -> Result<T, String> {
        let value = self
            .args
            .get(name)
            .ok_or_else(|| format!("{}: no argument `{name}`", self.path.display()))?;
        serde_json::from_value(value.clone())
            .map_err(|err| format!("{}: argument `{name}`: {err}", self.path.display()))
    }

    /// Checks a call's return value, a `result`, against `expect`.
    pub fn check<T: Serialize>(&self, actual: &Result<T, PluginError>) -> Result<(), String> {
        let actual = match actual {
            Ok(value) => serde_json::json!({ "ok": value }),
            Err(err) => serde_json::json!({ "err": err }),
        };
        let outcome = match (error_case(&actual), error_case(&self.expect)) {
            (Some((case, message)), Some((expected_case, fragment))) => {
                if case == expected_case && message.contains(fragment) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected a {expected_case} error containing {fragment:?}"
                    ))
                }
            }
            _ => compare(&actual, &self.expect, "$"),
        };
        outcome.map_err(|why| {
            format!(
                "{} ({}): {why}\n  actual: {actual}",
                self.path.display(),
                self.description
            )
        })
    }
}

/// Reads every `*.json` file of `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Fixture>, String> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|err| format!("cannot read {}: {err}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths.into_iter().map(|path| load(&path)).collect()
}

fn load(path: &Path) -> Result<Fixture, String> {
    let text = fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut value: Value =
        serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut field = |name: &str| {
        value
            .get_mut(name)
            .map(Value::take)
            .ok_or_else(|| format!("{}: missing `{name}`", path.display()))
    };
    let text_field = |value: Value, name: &str| match value {
        Value::String(text) => Ok(text),
        _ => Err(format!("{}: `{name}` must be a string", path.display())),
    };
    let description = text_field(field("description")?, "description")?;
    let call = text_field(field("call")?, "call")?;
    let Value::Object(args) = field("args")? else {
        return Err(format!("{}: `args` must be an object", path.display()));
    };
    let expect = field("expect")?;
    let metrics = match value.get_mut("metrics").map(Value::take) {
        None => Vec::new(),
        Some(entries) => Vec::<CannedEntry>::deserialize(entries)
            .map_err(|err| err.to_string())
            .and_then(|entries| entries.into_iter().map(CannedQuery::try_from).collect())
            .map_err(|err| format!("{}: `metrics`: {err}", path.display()))?,
    };
    Ok(Fixture {
        path: path.to_owned(),
        description,
        call,
        args,
        expect,
        metrics,
    })
}

/// `{"err": {"<case>": "<message>"}}` split into case and message.
fn error_case(value: &Value) -> Option<(&str, &str)> {
    let error = value.get("err")?.as_object()?;
    match error.iter().next() {
        Some((case, Value::String(message))) if error.len() == 1 => Some((case, message)),
        _ => None,
    }
}

/// A string holding a JSON object or array, parsed; anything else as is.
fn semantic(value: &Value) -> Option<Value> {
    let Value::String(text) = value else {
        return None;
    };
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|parsed| parsed.is_object() || parsed.is_array())
}

fn compare(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    if let Some(parsed) = semantic(actual) {
        return compare(&parsed, expected, at);
    }
    if let Some(parsed) = semantic(expected) {
        return compare(actual, &parsed, at);
    }
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            if let Some(key) = e.keys().find(|key| !a.contains_key(*key)) {
                return Err(format!("{at}.{key} is missing"));
            }
            if let Some(key) = a.keys().find(|key| !e.contains_key(*key)) {
                return Err(format!("{at}.{key} is not expected (value {})", a[key]));
            }
            a.iter()
                .try_for_each(|(key, value)| compare(value, &e[key], &format!("{at}.{key}")))
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!("{at} has {} items, expected {}", a.len(), e.len()));
            }
            a.iter()
                .zip(e)
                .enumerate()
                .try_for_each(|(i, (a, e))| compare(a, e, &format!("{at}[{i}]")))
        }
        (a, e) if a == e => Ok(()),
        (a, e) => Err(format!("{at} is {a}, expected {e}")),
    }
}

/// Expands to the native golden-fixture test of a workload plugin (`fixtures/*.json` of the
/// crate, every export covered): `waxwing_plugin_sdk::workload_fixture_test!(my_plugin_crate);`
/// in `tests/fixtures.rs`. The runtime runs the same files through the wasm component.
#[macro_export]
macro_rules! workload_fixture_test {
    ($plugin:ident) => {
        fn run(fixture: &$crate::fixtures::Fixture) -> Result<(), String> {
            let text = |name: &str| {
                fixture
                    .arg::<$crate::json_text::JsonText>(name)
                    .map(|text| text.0)
            };
            match fixture.call.as_str() {
                "related-objects" => fixture.check(&$plugin::related_objects(&text("workload")?)),
                "observe" => fixture.check(&$plugin::observe(&fixture.arg("objects")?)),
                "takeover" => fixture.check(&$plugin::takeover(
                    &fixture.arg("rollout")?,
                    fixture.arg("style")?,
                    &text("old")?,
                    &text("new")?,
                )),
                "release-batch" => fixture.check(&$plugin::release_batch(
                    &fixture.arg("ctx")?,
                    &fixture.arg("objects")?,
                )),
                "check-batch" => fixture.check(&$plugin::check_batch(
                    &fixture.arg("ctx")?,
                    &fixture.arg("objects")?,
                )),
                "abort" => fixture.check(&$plugin::abort(
                    &fixture.arg("ctx")?,
                    &fixture.arg("objects")?,
                )),
                "finalize" => fixture.check(&$plugin::finalize(
                    &fixture.arg("ctx")?,
                    &fixture.arg("objects")?,
                )),
                other => Err(format!(
                    "{}: unknown call `{other}`",
                    fixture.path.display()
                )),
            }
        }

        $crate::__fixture_test!(
            run,
            [
                "abort",
                "check-batch",
                "finalize",
                "observe",
                "related-objects",
                "release-batch",
                "takeover",
            ]
        );
    };
}

/// Expands to the native golden-fixture test of a traffic plugin (`fixtures/*.json` of the
/// crate, every export covered): `waxwing_plugin_sdk::traffic_fixture_test!(my_plugin_crate);`
/// in `tests/fixtures.rs`. The runtime runs the same files through the wasm component.
#[macro_export]
macro_rules! traffic_fixture_test {
    ($plugin:ident) => {
        fn run(fixture: &$crate::fixtures::Fixture) -> Result<(), String> {
            let objects = || {
                fixture
                    .arg::<Vec<$crate::json_text::JsonText>>("objects")
                    .map(|texts| {
                        texts
                            .into_iter()
                            .map(|text| text.0)
                            .collect::<Vec<String>>()
                    })
            };
            match fixture.call.as_str() {
                "route-objects" => fixture.check(&$plugin::route_objects(&fixture.arg("ctx")?)),
                "route" => fixture.check(&$plugin::route(&fixture.arg("ctx")?, &objects()?)),
                "restore" => fixture.check(&$plugin::restore(&fixture.arg("ctx")?, &objects()?)),
                other => Err(format!(
                    "{}: unknown call `{other}`",
                    fixture.path.display()
                )),
            }
        }

        $crate::__fixture_test!(run, ["restore", "route", "route-objects"]);
    };
}

/// Expands to the native golden-fixture test of a policy plugin (`fixtures/*.json` of the crate):
/// `waxwing_plugin_sdk::policy_fixture_test!(my_plugin_crate);` for an
/// `evaluate(&PolicyContext)`, or `policy_fixture_test!(my_plugin_crate, metrics);` for an
/// `evaluate(&PolicyContext, &dyn Metrics)`, which the fixture's canned answers then serve. The
/// runtime runs the same files through the wasm component.
#[macro_export]
macro_rules! policy_fixture_test {
    ($plugin:ident) => {
        $crate::policy_fixture_test!(@run |ctx, fixture| $plugin::evaluate(&ctx));
    };
    ($plugin:ident, metrics) => {
        $crate::policy_fixture_test!(@run |ctx, fixture| $plugin::evaluate(&ctx, fixture));
    };
    (@run |$ctx:ident, $fixture:ident| $call:expr) => {
        fn run($fixture: &$crate::fixtures::Fixture) -> Result<(), String> {
            match $fixture.call.as_str() {
                "evaluate" => {
                    let $ctx: $crate::policy::PolicyContext = $fixture.arg("ctx")?;
                    $fixture.check(&$call)
                }
                other => Err(format!(
                    "{}: unknown call `{other}`",
                    $fixture.path.display()
                )),
            }
        }

        $crate::__fixture_test!(run, ["evaluate"]);
    };
}

/// The test the fixture macros expand to: every fixture file passes `run`, and every export in
/// the list has at least one.
#[doc(hidden)]
#[macro_export]
macro_rules! __fixture_test {
    ($run:ident, [$($export:literal),+ $(,)?]) => {
        #[test]
        fn golden_fixtures_pass_natively() {
            let dir = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
            let all = $crate::fixtures::load_dir(&dir).unwrap();
            let calls: ::std::collections::BTreeSet<&str> =
                all.iter().map(|fixture| fixture.call.as_str()).collect();
            assert_eq!(
                calls,
                ::std::collections::BTreeSet::from([$($export),+]),
                "every export needs fixtures"
            );
            let failures: Vec<String> = all
                .iter()
                .filter_map(|fixture| $run(fixture).err())
                .collect();
            assert!(
                failures.is_empty(),
                "{} of {} fixtures fail:\n{}",
                failures.len(),
                all.len(),
                failures.join("\n\n")
            );
        }
    };
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixture(expect: Value) -> Fixture {
        Fixture {
            path: PathBuf::from("case.json"),
            description: "a case".into(),
            call: "observe".into(),
            args: Map::new(),
            expect,
            metrics: Vec::new(),
        }
    }

    #[test]
    fn json_text_compares_parsed_either_way() {
        let actual: Result<_, PluginError> = Ok(vec![r#"{"b":2,"a":[1]}"#.to_string()]);
        fixture(json!({"ok": [{"a": [1], "b": 2}]}))
            .check(&actual)
            .unwrap();
        fixture(json!({"ok": [r#"{"a":[1],"b":2}"#]}))
            .check(&actual)
            .unwrap();
        let err = fixture(json!({"ok": [{"a": [1], "b": 3}]}))
            .check(&actual)
            .unwrap_err();
        assert!(err.contains("$.ok[0].b is 2, expected 3"), "{err}");
    }

    #[test]
    fn missing_and_extra_fields_fail() {
        let actual: Result<_, PluginError> = Ok(json!({"a": 1}));
        assert!(
            fixture(json!({"ok": {"a": 1, "b": 2}}))
                .check(&actual)
                .unwrap_err()
                .contains("$.ok.b is missing")
        );
        assert!(
            fixture(json!({"ok": {}}))
                .check(&actual)
                .unwrap_err()
                .contains("$.ok.a is not expected")
        );
    }

    #[test]
    fn canned_metrics_answer_by_provider_and_exact_query() {
        let dir = std::env::temp_dir().join(format!("waxwing-sdk-fixtures-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let text = json!({
            "description": "canned", "call": "evaluate", "args": {}, "expect": null,
            "metrics": [
                {"provider": "prometheus", "query": "up", "answer": {"resultType": "scalar", "result": [0, "1"]}},
                {"provider": "prometheus", "query": "down", "answer": "{\"resultType\":\"vector\",\"result\":[]}"},
                {"provider": "prometheus", "query": "flaky", "error": "connection refused"}
            ]
        });
        fs::write(dir.join("canned.json"), text.to_string()).unwrap();
        fs::write(
            dir.join("both.json"),
            r#"{"description": "", "call": "evaluate", "args": {}, "expect": null,
                "metrics": [{"provider": "p", "query": "q", "answer": {}, "error": "e"}]}"#,
        )
        .unwrap();
        let loaded = load(&dir.join("canned.json")).unwrap();
        let both = load(&dir.join("both.json")).unwrap_err();
        fs::remove_dir_all(&dir).ok();

        let answer = loaded
            .query("prometheus", &MetricQuery::instant("up"))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&answer).unwrap(),
            json!({"resultType": "scalar", "result": [0, "1"]})
        );
        assert_eq!(
            loaded.query("prometheus", &MetricQuery::instant("down")),
            Ok(r#"{"resultType":"vector","result":[]}"#.to_string())
        );
        let ranged = MetricQuery {
            range: Some(crate::metrics::QueryRange {
                lookback_seconds: 300,
                step_seconds: 30,
            }),
            ..MetricQuery::instant("flaky")
        };
        assert_eq!(
            loaded.query("prometheus", &ranged),
            Err("connection refused".to_string())
        );
        assert_eq!(
            loaded.query("thanos", &MetricQuery::instant("up")),
            Err(
                r#"no canned answer for query "up" to provider "thanos" in the fixture"#
                    .to_string()
            )
        );
        assert!(
            both.contains("needs exactly one of `answer` and `error`"),
            "{both}"
        );
    }

    #[test]
    fn errors_match_by_case_and_substring() {
        let actual: Result<(), _> = Err(PluginError::invalid_input("the workload is not valid"));
        fixture(json!({"err": {"invalid-input": "not valid"}}))
            .check(&actual)
            .unwrap();
        assert!(
            fixture(json!({"err": {"not-ready": "not valid"}}))
                .check(&actual)
                .is_err()
        );
        assert!(
            fixture(json!({"err": {"invalid-input": "missing"}}))
                .check(&actual)
                .is_err()
        );
        assert!(fixture(json!({"ok": null})).check(&actual).is_err());
    }
}
