//! The compile cache stores precompiled components by sha256 per engine, survives garbage in
//! its files, and is skipped when its directory is unusable.

mod support;

use std::path::Path;

use support::{hostile_wasm, temp_dir};
use waxwing_runtime::{CacheDir, Runtime, RuntimeOptions};

fn runtime_with_cache(dir: &Path) -> Runtime {
    Runtime::new(RuntimeOptions {
        cache: CacheDir::Path(dir.to_path_buf()),
    })
    .expect("engine")
}

fn artifacts(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for engine_dir in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(engine_dir.unwrap().path()).unwrap() {
            found.push(file.unwrap().path());
        }
    }
    found
}

#[test]
fn compiled_components_are_stored_and_reused() {
    let dir = temp_dir("cache-reuse");
    let wasm = hostile_wasm();
    let first = runtime_with_cache(&dir);
    let compiled = first.compile("hostile", &wasm).expect("compile");
    let stored = artifacts(&dir);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].file_name().unwrap().to_string_lossy(),
        format!("{}.cwasm", compiled.sha256())
    );
    let modified = std::fs::metadata(&stored[0]).unwrap().modified().unwrap();

    // A second process (engine) with the same configuration loads the stored artifact.
    let second = runtime_with_cache(&dir);
    assert_eq!(second.cache_dir(), first.cache_dir());
    let again = second.compile("hostile", &wasm).expect("load from cache");
    assert_eq!(again.sha256(), compiled.sha256());
    assert_eq!(artifacts(&dir), stored);
    assert_eq!(
        std::fs::metadata(&stored[0]).unwrap().modified().unwrap(),
        modified
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_corrupt_artifact_is_replaced() {
    let dir = temp_dir("cache-corrupt");
    let wasm = hostile_wasm();
    let runtime = runtime_with_cache(&dir);
    runtime.compile("hostile", &wasm).expect("compile");
    let stored = artifacts(&dir).remove(0);
    std::fs::write(&stored, b"not a compiled component").unwrap();
    runtime
        .compile("hostile", &wasm)
        .expect("recompile over garbage");
    assert!(std::fs::metadata(&stored).unwrap().len() > 1000);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_unusable_cache_directory_means_no_cache() {
    let dir = temp_dir("cache-unusable");
    let blocker = dir.join("file");
    std::fs::write(&blocker, b"").unwrap();
    // A directory cannot be created below a regular file.
    let runtime = runtime_with_cache(&blocker.join("cache"));
    assert_eq!(runtime.cache_dir(), None);
    runtime
        .compile("hostile", &hostile_wasm())
        .expect("compile without a cache");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_default_directory_follows_xdg() {
    // Read-only check of the resolution rule; the variables are not changed here.
    let resolved = CacheDir::Default.resolve();
    match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
        (Some(xdg), _) if !xdg.is_empty() => {
            assert_eq!(resolved, Some(Path::new(&xdg).join("waxwing/plugins")))
        }
        (_, Some(home)) if !home.is_empty() => {
            assert_eq!(
                resolved,
                Some(Path::new(&home).join(".cache/waxwing/plugins"))
            )
        }
        _ => assert_eq!(resolved, None),
    }
    assert_eq!(CacheDir::Disabled.resolve(), None);
}
