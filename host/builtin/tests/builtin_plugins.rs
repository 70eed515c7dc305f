//! The embedded built-in plugins through the real runtime: they load under the default
//! configuration, pass their golden fixtures, and are refused as the wrong world.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use waxwing_builtin::{
    BUILTINS, DEFAULT_PLUGINS_YAML, WASM_DIR, builtin, builtin_world, default_registry,
};
use waxwing_runtime::{
    CacheDir, LoadError, PluginSettings, Runtime, RuntimeOptions, World, render_table, run_fixtures,
};

/// One runtime for the test binary, whose compile cache is filled with every built-in before
/// any test runs: compiling the Deployment plugin in a debug build takes many seconds, and
/// every later compile (the registry's too) then loads the cached artifact.
fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let cache =
                std::env::temp_dir().join(format!("waxwing-builtin-tests-{}", std::process::id()));
            let runtime = Runtime::new(RuntimeOptions {
                cache: CacheDir::Path(cache),
            })
            .expect("engine");
            assert!(
                runtime.cache_dir().is_some(),
                "the test cache directory is usable"
            );
            for (name, _, wasm) in BUILTINS {
                runtime.compile(name, wasm).expect("compile a built-in");
            }
            runtime
        })
        .clone()
}

fn fixtures_dir(plugin: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(plugin)
        .join("fixtures")
}

fn check_fixtures(name: &str) {
    let plugin = runtime()
        .load(
            name,
            builtin(name).unwrap(),
            builtin_world(name).unwrap(),
            PluginSettings::default(),
        )
        .expect("load");
    let results = run_fixtures(&plugin, &fixtures_dir(name));
    let table = render_table(&results);
    assert!(results.len() > 3, "too few fixtures for {name}:\n{table}");
    assert!(
        results.iter().all(|r| r.passed()),
        "{name} fixtures failed:\n{table}"
    );
}

#[test]
fn the_builtins_are_embedded_and_on_disk() {
    let names: Vec<&str> = BUILTINS.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(
        names,
        [
            "deployment",
            "cloneset",
            "statefulset",
            "ingress",
            "httproute",
            "pause",
            "prometheus"
        ]
    );
    assert_eq!(builtin_world("deployment"), Some(World::Workload));
    assert_eq!(builtin_world("cloneset"), Some(World::Workload));
    assert_eq!(builtin_world("statefulset"), Some(World::Workload));
    assert_eq!(builtin_world("ingress"), Some(World::Traffic));
    assert_eq!(builtin_world("httproute"), Some(World::Traffic));
    assert_eq!(builtin_world("pause"), Some(World::Policy));
    assert_eq!(builtin_world("prometheus"), Some(World::Policy));
    assert!(builtin("nginx").is_none());
    for (name, _, wasm) in BUILTINS {
        let on_disk =
            std::fs::read(Path::new(WASM_DIR).join(format!("waxwing_plugin_{name}.wasm")))
                .expect("the build leaves the component in WASM_DIR");
        assert_eq!(&on_disk[..], *wasm, "{name}");
    }
}

#[test]
fn the_default_configuration_serves_every_builtin() {
    let (registry, report) = default_registry(runtime());
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        report.loaded,
        [
            "deployment",
            "cloneset",
            "statefulset",
            "ingress",
            "httproute",
            "pause",
            "prometheus"
        ]
    );
    let set = registry.current();
    for (api_version, kind, plugin) in [
        ("apps/v1", "Deployment", "deployment"),
        ("apps.kruise.io/v1alpha1", "CloneSet", "cloneset"),
        ("apps/v1", "StatefulSet", "statefulset"),
        ("apps.kruise.io/v1beta1", "StatefulSet", "statefulset"),
    ] {
        assert_eq!(set.workload(api_version, kind).unwrap().id().name, plugin);
    }
    for class in [None, Some("nginx"), Some("aliyun-alb")] {
        let ingress = set
            .traffic("networking.k8s.io/v1", "Ingress", class)
            .unwrap();
        assert_eq!(ingress.plugin.id().name, "ingress");
    }
    let route = set
        .traffic("gateway.networking.k8s.io/v1", "HTTPRoute", None)
        .unwrap();
    assert_eq!(route.plugin.id().name, "httproute");
    assert_eq!(set.policy("pause").unwrap().plugin.id().name, "pause");
    assert!(DEFAULT_PLUGINS_YAML.contains("builtin:deployment"));
}

#[test]
fn deployment_passes_its_golden_fixtures() {
    check_fixtures("deployment");
}

#[test]
fn cloneset_passes_its_golden_fixtures() {
    check_fixtures("cloneset");
}

#[test]
fn statefulset_passes_its_golden_fixtures() {
    check_fixtures("statefulset");
}

#[test]
fn pause_passes_its_golden_fixtures() {
    check_fixtures("pause");
}

#[test]
fn prometheus_passes_its_golden_fixtures() {
    check_fixtures("prometheus");
}

#[test]
fn ingress_passes_its_golden_fixtures() {
    check_fixtures("ingress");
}

#[test]
fn httproute_passes_its_golden_fixtures() {
    check_fixtures("httproute");
}

#[test]
fn a_policy_component_checked_as_a_workload_plugin_says_which_check_failed() {
    let err = runtime()
        .check_component("pause.wasm", builtin("pause").unwrap(), World::Workload)
        .unwrap_err();
    let LoadError::WorldMismatch {
        expected, problem, ..
    } = &err
    else {
        panic!("expected a world mismatch, got {err:?}");
    };
    assert_eq!(*expected, World::Workload);
    assert_eq!(
        problem,
        "it does not export waxwing:plugin/workload@0.1.0; it exports waxwing:plugin/policy@0.1.0, \
         so it looks like a policy plugin"
    );
    assert!(
        err.to_string()
            .starts_with("plugin \"pause.wasm\" (sha256:"),
        "{err}"
    );

    let info = runtime()
        .check_component("pause.wasm", builtin("pause").unwrap(), World::Policy)
        .expect("pause is a policy plugin");
    assert_eq!(info.export, "waxwing:plugin/policy@0.1.0");
    assert!(
        info.imports
            .iter()
            .all(|i| i.starts_with("wasi:") || i.starts_with("waxwing:plugin/")),
        "{:?}",
        info.imports
    );
}

#[test]
fn bytes_that_are_not_a_component_do_not_compile() {
    let err = runtime()
        .check_component("junk.wasm", b"\0asm junk", World::Policy)
        .unwrap_err();
    assert!(matches!(err, LoadError::Compile { .. }), "{err:?}");
    assert!(err.to_string().contains("does not compile"), "{err}");
}

#[test]
fn every_builtins_world_is_read_from_its_exports() {
    for (name, world, wasm) in waxwing_builtin::BUILTINS {
        assert_eq!(World::exported_by(wasm), Some(*world), "{name}");
    }
    assert_eq!(
        World::exported_by(b"\0asm\x01\0\0\0"),
        None,
        "a core module"
    );
    assert_eq!(World::exported_by(b"not wasm"), None);
}
