//! The built-in plugins, embedded in the host.
//!
//! `build.rs` compiles each built-in plugin crate to wasm32-wasip2 and embeds the component, so
//! the controller works without any plugin ConfigMap, and `waxwing plugin check` can compare
//! with the built-ins.

use std::collections::BTreeMap;

use waxwing_runtime::{ApplyReport, Registry, Runtime, World};

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// Where the build left the built-in components (`.wasm` files), for tests and tools.
pub const WASM_DIR: &str = env!("WAXWING_WASM_DIR");

/// The plugin configuration used when the `waxwing-plugins` ConfigMap is absent.
pub const DEFAULT_PLUGINS_YAML: &str = include_str!("default-plugins.yaml");

/// The component bytes of a built-in plugin.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, wasm)| *wasm)
}

/// The world of a built-in plugin.
pub fn builtin_world(name: &str) -> Option<World> {
    BUILTINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, world, _)| *world)
}

/// A registry that knows the built-ins, with the default configuration applied. Compiles, so
/// call it on a blocking thread.
pub fn default_registry(runtime: Runtime) -> (Registry, ApplyReport) {
    let registry = Registry::new(runtime, BUILTINS);
    let report = registry.apply(DEFAULT_PLUGINS_YAML, &BTreeMap::new());
    (registry, report)
}
