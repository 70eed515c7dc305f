//! Runs the golden fixtures (`fixtures/*.json`, written by `scripts/make-fixtures.py`) through
//! the native logic. The runtime runs the same files through the wasm component.

use std::collections::BTreeSet;
use std::path::Path;

use waxwing_plugin_cloneset as plugin;
use waxwing_plugin_sdk::fixtures::{self, Fixture};
use waxwing_plugin_sdk::json_text::JsonText;

fn run(fixture: &Fixture) -> Result<(), String> {
    let text = |name: &str| fixture.arg::<JsonText>(name).map(|text| text.0);
    match fixture.call.as_str() {
        "related-objects" => fixture.check(&plugin::related_objects(&text("workload")?)),
        "observe" => fixture.check(&plugin::observe(&fixture.arg("objects")?)),
        "takeover" => fixture.check(&plugin::takeover(
            &fixture.arg("rollout")?,
            fixture.arg("style")?,
            &text("old")?,
            &text("new")?,
        )),
        "release-batch" => fixture.check(&plugin::release_batch(
            &fixture.arg("ctx")?,
            &fixture.arg("objects")?,
        )),
        "check-batch" => fixture.check(&plugin::check_batch(
            &fixture.arg("ctx")?,
            &fixture.arg("objects")?,
        )),
        "finalize" => fixture.check(&plugin::finalize(
            &fixture.arg("ctx")?,
            &fixture.arg("objects")?,
        )),
        other => Err(format!(
            "{}: unknown call `{other}`",
            fixture.path.display()
        )),
    }
}

#[test]
fn golden_fixtures_pass_natively() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let all = fixtures::load_dir(&dir).unwrap();
    let calls: BTreeSet<&str> = all.iter().map(|fixture| fixture.call.as_str()).collect();
    let exported = [
        "check-batch",
        "finalize",
        "observe",
        "related-objects",
        "release-batch",
        "takeover",
    ];
    assert_eq!(
        calls,
        BTreeSet::from(exported),
        "every export needs fixtures"
    );
    let failures: Vec<String> = all
        .iter()
        .filter_map(|fixture| run(fixture).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures fail:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
