//! `waxwing plugin check`: does this component load, implement the world, and pass its fixtures?

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use waxwing_runtime::{
    CacheDir, PluginSettings, Runtime, RuntimeOptions, World, render_table, run_fixtures,
};

pub fn run(file: &Path, world: World, fixtures: Option<&Path>) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_stem().map_or_else(
        || "plugin".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    // A check compiles the file in hand; caching it would only leave artifacts behind.
    let runtime = Runtime::new(RuntimeOptions {
        cache: CacheDir::Disabled,
    })?;

    let plugin = match runtime.load(&name, &wasm, world, PluginSettings::default()) {
        Ok(plugin) => plugin,
        Err(e) => {
            println!("FAIL  {} as a {world} plugin: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let info = plugin.info();
    println!(
        "PASS  {} is a component of {} ({} KiB, sha256 {})",
        file.display(),
        info.export,
        info.size_bytes / 1024,
        &info.sha256[..12],
    );

    let Some(dir) = fixtures else {
        return Ok(ExitCode::SUCCESS);
    };
    let results = run_fixtures(&plugin, dir);
    print!("{}", render_table(&results));
    if results.is_empty() {
        println!("FAIL  no fixtures (*.json) in {}", dir.display());
        return Ok(ExitCode::FAILURE);
    }
    let all_passed = results.iter().all(|r| r.passed());
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
