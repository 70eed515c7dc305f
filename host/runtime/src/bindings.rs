//! Host bindings for the three plugin worlds of `wit/plugin.wit`.
//!
//! The worlds share the `types` and `host` interfaces. They are generated once, with the
//! workload world, and the other two worlds reuse them through `with`, so a `Change` or a
//! `PluginError` is the same Rust type whichever world produced it.

/// Bindings of the `workload-plugin` world, which also own the shared `types` and `host`.
pub mod workload {
    wasmtime::component::bindgen!({
        world: "workload-plugin",
        path: "../../wit",
    });
}

/// Bindings of the `traffic-plugin` world.
pub mod traffic {
    wasmtime::component::bindgen!({
        world: "traffic-plugin",
        path: "../../wit",
        with: {
            "waxwing:plugin/types": crate::bindings::workload::waxwing::plugin::types,
            "waxwing:plugin/host": crate::bindings::workload::waxwing::plugin::host,
        },
    });
}

/// Bindings of the `policy-plugin` world.
pub mod policy {
    wasmtime::component::bindgen!({
        world: "policy-plugin",
        path: "../../wit",
        with: {
            "waxwing:plugin/types": crate::bindings::workload::waxwing::plugin::types,
            "waxwing:plugin/host": crate::bindings::workload::waxwing::plugin::host,
        },
    });
}
