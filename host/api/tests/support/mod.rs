//! Helpers shared by the integration tests.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture file name, sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures is readable")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

/// A fixture as JSON.
pub fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures_dir().join(name))
        .unwrap_or_else(|err| panic!("cannot read fixture {name}: {err}"));
    serde_yaml::from_str(&text).unwrap_or_else(|err| panic!("fixture {name} is not YAML: {err}"))
}

/// The OpenAPI schema the generated CRD holds for `kind` at `version`, as JSON.
pub fn schema(kind: &str, version: &str) -> Value {
    let crd = waxwing_api::crds()
        .into_iter()
        .find(|crd| crd.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}"));
    let version = crd
        .spec
        .versions
        .into_iter()
        .find(|v| v.name == version)
        .unwrap_or_else(|| panic!("the {kind} CRD has no version {version}"));
    let schema = version
        .schema
        .and_then(|s| s.open_api_v3_schema)
        .expect("a schema");
    serde_json::to_value(schema).expect("a schema is JSON")
}

/// Runs the CEL rules of the `kind`/`version` schema on `object`; the failure messages.
pub fn cel_failures(kind: &str, version: &str, object: &Value) -> Vec<String> {
    match kube_cel::validate(&schema(kind, version), object, None) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|e| e.to_string())
            .collect(),
    }
}

/// Checks that `output` says what `input` says, adding nothing but zero values (`false`, `0`,
/// `""`, `{}`, `[]`): the fields Go writes even when empty. Returns the differences.
pub fn differences(input: &Value, output: &Value) -> Vec<String> {
    let mut found = Vec::new();
    compare("", input, output, &mut found);
    found
}

fn compare(path: &str, input: &Value, output: &Value, found: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(input), Value::Object(output)) => {
            for (key, value) in input {
                let path = format!("{path}.{key}");
                match output.get(key) {
                    Some(out) => compare(&path, value, out, found),
                    None if is_zero(value) || value.is_null() => {}
                    None => found.push(format!("{path}: dropped {value}")),
                }
            }
            for (key, value) in output {
                if !input.contains_key(key) && !is_zero(value) {
                    found.push(format!("{path}.{key}: added {value}"));
                }
            }
        }
        (Value::Array(input), Value::Array(output)) if input.len() == output.len() => {
            for (index, (a, b)) in input.iter().zip(output).enumerate() {
                compare(&format!("{path}[{index}]"), a, b, found);
            }
        }
        (input, output) if input == output => {}
        (input, output) => found.push(format!("{path}: {input} became {output}")),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.values().all(is_zero),
        Value::Null => false,
    }
}
