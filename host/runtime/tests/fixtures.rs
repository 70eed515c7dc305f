//! The golden fixture runner, on the hostile guest: passing and failing cases, substring
//! matching of errors, and fixtures that are themselves wrong.

mod support;

use std::time::Duration;

use support::{hostile, temp_dir};
use waxwing_runtime::{FixtureOutcome, Limits, World, render_table, run_fixtures};

fn write(dir: &std::path::Path, case: &str, json: &str) {
    std::fs::write(dir.join(format!("{case}.json")), json).unwrap();
}

fn ctx(config: &str) -> String {
    format!(
        r#"{{"rollout": {{"namespace": "default", "name": "web", "rollout-id": null}},
            "step-index": 1, "step-count": 2, "elapsed-ms": 0, "now-unix-ms": 0,
            "config": {config}, "args": [["namespace", "default"]]}}"#
    )
}

#[test]
fn runs_each_case_and_explains_failures() {
    let dir = temp_dir("fixtures");
    write(
        &dir,
        "a-proceeds",
        &format!(
            r#"{{"description": "a plain proceed", "call": "evaluate",
            "args": {{"ctx": {}}}, "expect": {{"ok": "proceed"}}}}"#,
            ctx(r#"{"act": "proceed"}"#)
        ),
    );
    write(
        &dir,
        "b-host-read-refused",
        &format!(
            r#"{{"call": "evaluate", "args": {{"ctx": {}}},
            "expect": {{"err": {{"host-failure": "without a cluster"}}}}}}"#,
            ctx(r#"{"act": "read-pod"}"#)
        ),
    );
    write(
        &dir,
        "c-wrong-expectation",
        &format!(
            r#"{{"call": "evaluate", "args": {{"ctx": {}}},
            "expect": {{"ok": {{"pause": "0"}}}}}}"#,
            ctx(r#"{"act": "env"}"#)
        ),
    );
    write(
        &dir,
        "d-unknown-argument",
        &format!(
            r#"{{"call": "evaluate", "args": {{"context": {}}}, "expect": null}}"#,
            ctx("{}")
        ),
    );
    write(
        &dir,
        "e-wrong-call",
        r#"{"call": "observe", "args": {}, "expect": null}"#,
    );
    write(
        &dir,
        "f-runaway",
        &format!(
            r#"{{"call": "evaluate", "args": {{"ctx": {}}}, "expect": {{"ok": "proceed"}}}}"#,
            ctx(r#"{"act": "loop"}"#)
        ),
    );
    write(
        &dir,
        "g-bad-field-type",
        &format!(
            r#"{{"call": "evaluate", "args": {{"ctx": {}}}, "expect": null}}"#,
            ctx("{}").replace("\"step-index\": 1", "\"step-index\": -1")
        ),
    );
    std::fs::write(dir.join("notes.txt"), "not a fixture").unwrap();

    let plugin = hostile(
        World::Policy,
        Limits {
            timeout: Duration::from_millis(100),
            ..Limits::default()
        },
    );
    let results = run_fixtures(&plugin, &dir);
    let cases: Vec<&str> = results.iter().map(|r| r.case.as_str()).collect();
    assert_eq!(
        cases,
        [
            "a-proceeds",
            "b-host-read-refused",
            "c-wrong-expectation",
            "d-unknown-argument",
            "e-wrong-call",
            "f-runaway",
            "g-bad-field-type"
        ]
    );
    assert_eq!(results[0].outcome, FixtureOutcome::Pass);
    assert_eq!(results[0].description, "a plain proceed");
    assert_eq!(results[1].outcome, FixtureOutcome::Pass);
    assert_eq!(
        results[2].outcome,
        FixtureOutcome::Fail(vec![
            "$.ok: expected {\"pause\":\"0\"}, got \"proceed\"".to_string()
        ])
    );
    assert_eq!(
        results[3].outcome,
        FixtureOutcome::Invalid(
            "args.context is not a parameter of evaluate (parameters: ctx)".to_string()
        )
    );
    let FixtureOutcome::Invalid(message) = &results[4].outcome else {
        panic!("{:?}", results[4]);
    };
    assert!(
        message.starts_with("call \"observe\" is not a function of the policy world"),
        "{message}"
    );
    let FixtureOutcome::Fail(lines) = &results[5].outcome else {
        panic!("{:?}", results[5]);
    };
    assert!(
        lines[0].contains("stopped after its time limit of 100 ms"),
        "{lines:?}"
    );
    assert_eq!(
        results[6].outcome,
        FixtureOutcome::Invalid("args.ctx.step-index: -1 is out of range for its type".to_string())
    );

    let table = render_table(&results);
    assert!(
        table.starts_with(
            "CASE                 CALL      RESULT\na-proceeds           evaluate  PASS\n"
        ),
        "{table}"
    );
    assert!(table.ends_with("fixtures: 2 passed, 5 failed\n"), "{table}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_missing_directory_is_one_invalid_result() {
    let plugin = hostile(World::Policy, Limits::default());
    let results = run_fixtures(&plugin, std::path::Path::new("/nonexistent/fixtures"));
    assert_eq!(results.len(), 1);
    assert!(
        matches!(&results[0].outcome, FixtureOutcome::Invalid(m) if m.starts_with("cannot read the fixtures directory"))
    );
}
