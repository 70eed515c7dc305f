//! Shared by the webhook's tests.

use std::sync::OnceLock;

use waxwing_runtime::{CacheDir, Registry, Runtime, RuntimeOptions};

/// A registry of its own with the built-in plugins under the default configuration.
///
/// All registries share one runtime whose on-disk compile cache is filled once, before any
/// registry is made: compiling the Deployment plugin in a debug build takes many seconds, and
/// every registry then loads the cached artifact.
pub fn default_registry() -> Registry {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        let cache =
            std::env::temp_dir().join(format!("waxwing-webhook-tests-{}", std::process::id()));
        let runtime = Runtime::new(RuntimeOptions {
            cache: CacheDir::Path(cache),
        })
        .expect("a plugin runtime");
        for (name, _, wasm) in waxwing_builtin::BUILTINS {
            runtime
                .compile(name, wasm)
                .expect("a built-in plugin compiles");
        }
        runtime
    });
    let (registry, report) = waxwing_builtin::default_registry(runtime.clone());
    assert!(report.is_clean(), "{report:?}");
    registry
}

/// A registry with no plugins, for requests that must not reach one.
pub fn empty_registry() -> Registry {
    let runtime = Runtime::new(RuntimeOptions {
        cache: CacheDir::Disabled,
    })
    .expect("a plugin runtime");
    Registry::new(runtime, waxwing_builtin::BUILTINS)
}
