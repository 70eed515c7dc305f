//! Runs the golden fixtures (`fixtures/*.json`) through the native logic. The runtime runs the
//! same files through the wasm component.

use std::path::Path;

use waxwing_plugin_pause::evaluate;
use waxwing_plugin_sdk::fixtures::{self, Fixture};

fn run(fixture: &Fixture) -> Result<(), String> {
    match fixture.call.as_str() {
        "evaluate" => fixture.check(&evaluate(&fixture.arg("ctx")?)),
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
    assert!(
        all.len() >= 6,
        "only {} fixtures in {}",
        all.len(),
        dir.display()
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
