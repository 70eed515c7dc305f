//! Helpers shared by the runtime's integration tests: the hostile test guest, built on demand.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use waxwing_runtime::{
    CacheDir, CompiledComponent, Grants, Gvk, HostServices, Limits, Plugin, PluginSettings,
    Runtime, RuntimeOptions, World,
};

/// Variables a surrounding cargo sets that must not reach the nested build of the guest:
/// they would retarget it, wrap rustc in clippy, or share a jobserver it cannot reach.
const LEAKING_VARS: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_LLVM_COV",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the hostile guest for wasm32-wasip2 (once per test binary) and returns its bytes.
pub fn hostile_wasm() -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let root = workspace_root();
        let target_dir = root.join("target/wasm");
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .current_dir(&root)
            .args(["build", "--quiet", "--package", "waxwing-plugin-hostile"])
            .args([
                "--target",
                "wasm32-wasip2",
                "--profile",
                "plugin",
                "--target-dir",
            ])
            .arg(&target_dir);
        for var in LEAKING_VARS {
            cargo.env_remove(var);
        }
        let status = cargo
            .status()
            .expect("run cargo to build the hostile guest");
        assert!(
            status.success(),
            "building the hostile guest failed: {status}"
        );
        target_dir.join("wasm32-wasip2/plugin/waxwing_plugin_hostile.wasm")
    });
    std::fs::read(path).expect("read the hostile guest")
}

/// One runtime per test binary, without a compile cache so tests never depend on the machine's.
pub fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::new(RuntimeOptions {
                cache: CacheDir::Disabled,
            })
            .expect("engine")
        })
        .clone()
}

/// The hostile guest compiled once per test binary (compiling is slow in a debug build).
pub fn hostile_compiled() -> CompiledComponent {
    static COMPILED: OnceLock<CompiledComponent> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            runtime()
                .compile("hostile", &hostile_wasm())
                .expect("compile the hostile guest")
        })
        .clone()
}

/// The hostile guest prepared as `world`, allowed to read Pods only.
pub fn hostile(world: World, limits: Limits) -> Plugin {
    let settings = PluginSettings {
        limits,
        grants: Grants {
            read: vec![Gvk::new("v1", "Pod")],
            metrics: vec![],
        },
    };
    runtime()
        .prepare(&hostile_compiled(), world, settings)
        .expect("prepare the hostile guest")
}

/// Host services that answer every granted read with a fixed Pod, and count the calls.
#[derive(Default)]
pub struct FakeCluster {
    pub reads: std::sync::atomic::AtomicUsize,
}

impl HostServices for FakeCluster {
    fn get_object(
        &self,
        _: &str,
        kind: &str,
        _: &str,
        name: &str,
    ) -> Result<Option<String>, String> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Some(format!(
            r#"{{"kind":"{kind}","metadata":{{"name":"{name}"}}}}"#
        )))
    }

    fn list_objects(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Vec<String>, String> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(vec![])
    }

    fn query_metrics(&self, _: &str, _: &waxwing_runtime::MetricQuery) -> Result<String, String> {
        Ok("{}".into())
    }
}

pub fn services(cluster: &Arc<FakeCluster>) -> Arc<dyn HostServices> {
    cluster.clone()
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("waxwing-runtime-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}
