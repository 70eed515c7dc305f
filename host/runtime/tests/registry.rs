//! The registry applies plugin configurations atomically, entry by entry: a bad entry is
//! refused with a precise message and its previous good version stays in service.

mod support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use support::{hostile_compiled, hostile_wasm, temp_dir};
use waxwing_runtime::{
    ApplyReport, BuiltinTable, CacheDir, LoadError, Registry, Runtime, RuntimeOptions, World,
};

fn builtins() -> BuiltinTable {
    let wasm: &'static [u8] = Box::leak(hostile_wasm().into_boxed_slice());
    Box::leak(vec![("hostile", World::Policy, wasm)].into_boxed_slice())
}

fn binary_data() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("hostile.wasm".to_string(), hostile_wasm())])
}

fn sha256() -> String {
    hostile_compiled().sha256().to_string()
}

/// Registries compile on every load; a shared compile cache keeps that to once per binary.
fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::new(RuntimeOptions {
                cache: CacheDir::Path(temp_dir("registry-cache")),
            })
            .expect("engine")
        })
        .clone()
}

fn config(workload_extra: &str) -> String {
    format!(
        "
plugins:
  - name: gate
    source: builtin:hostile
    handles:
      policies: [canary-check]
    grants:
      metrics: [prometheus]
    config: {{threshold: 0.99}}
  - name: deploy
    source: configMap:hostile.wasm
    world: workload
    handles:
      workloads: [{{apiVersion: apps/v1, kind: Deployment}}]
{workload_extra}
"
    )
}

fn names(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

fn apply(registry: &Registry, yaml: &str) -> ApplyReport {
    registry.apply(yaml, &binary_data())
}

#[test]
fn applies_loads_and_looks_up_plugins() {
    let registry = Registry::new(runtime(), builtins());
    let report = apply(&registry, &config(""));
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(names(&report.loaded), ["gate", "deploy"]);

    let set = registry.current();
    assert_eq!(set.len(), 2);
    let gate = set.policy("canary-check").expect("policy by name");
    assert_eq!(gate.plugin.id().name, "gate");
    assert_eq!(gate.entry.config["threshold"], 0.99);
    assert!(
        set.policy("gate").is_none(),
        "explicit policy names replace the plugin's own"
    );
    assert!(set.policy_plugin("canary-check").is_some());
    let deploy = set
        .workload("apps/v1", "Deployment")
        .expect("workload by kind");
    assert_eq!(deploy.id().name, "deploy");
    assert!(set.workload("apps/v1", "StatefulSet").is_none());
    assert!(
        set.traffic("networking.k8s.io/v1", "Ingress", Some("nginx"))
            .is_none()
    );
}

#[test]
fn unchanged_entries_are_kept_and_changed_settings_reuse_the_compiled_wasm() {
    let registry = Registry::new(runtime(), builtins());
    apply(&registry, &config(""));
    let report = apply(&registry, &config(""));
    assert_eq!(names(&report.unchanged), ["gate", "deploy"]);
    assert!(report.loaded.is_empty() && report.reconfigured.is_empty());

    let report = apply(&registry, &config("    limits: {timeoutMs: 50}"));
    assert_eq!(names(&report.unchanged), ["gate"]);
    assert_eq!(names(&report.reconfigured), ["deploy"]);
    let set = registry.current();
    let deploy = set.get("deploy").unwrap();
    assert_eq!(deploy.plugin.limits().timeout.as_millis(), 50);
}

#[test]
fn a_sha256_mismatch_is_refused_and_the_previous_version_stays() {
    let registry = Registry::new(runtime(), builtins());
    apply(&registry, &config(""));
    let wrong = "0".repeat(64);
    let report = apply(&registry, &config(&format!("    sha256: {wrong}")));
    assert_eq!(report.refused.len(), 1, "{report:?}");
    let refusal = &report.refused[0];
    assert_eq!(refusal.name, "deploy");
    let LoadError::ChecksumMismatch {
        expected, actual, ..
    } = &refusal.error
    else {
        panic!("expected a checksum mismatch, got {:?}", refusal.error);
    };
    assert_eq!(expected, &wrong);
    assert_eq!(actual, &sha256());
    let message = refusal.to_string();
    assert!(
        message.starts_with("plugin \"deploy\": sha256 mismatch: the configuration expects 0000"),
        "{message}"
    );
    assert!(
        message.contains("still serving the previous version (sha256:"),
        "{message}"
    );
    assert!(
        registry
            .current()
            .workload("apps/v1", "Deployment")
            .is_some()
    );
    assert_eq!(names(&report.unchanged), ["gate"]);

    // The right checksum is accepted.
    let report = apply(&registry, &config(&format!("    sha256: {}", sha256())));
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn a_component_of_another_world_is_refused_with_what_it_is() {
    let registry = Registry::new(runtime(), builtins());
    let yaml = "
plugins:
  - name: router
    source: configMap:hostile.wasm
    world: traffic
    handles:
      traffic: [{apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute}]
";
    let report = apply(&registry, yaml);
    let refusal = &report.refused[0];
    assert!(matches!(
        refusal.error,
        LoadError::WorldMismatch {
            expected: World::Traffic,
            ..
        }
    ));
    let message = refusal.to_string();
    assert!(
        message.contains(
            "is not a traffic plugin: it does not export waxwing:plugin/traffic@0.1.0; it exports \
             waxwing:plugin/workload@0.1.0, waxwing:plugin/policy@0.1.0, so it looks like a workload plugin"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("the plugin is not in service"),
        "{message}"
    );
    assert!(registry.current().is_empty());
}

#[test]
fn one_bad_entry_never_takes_the_others_down() {
    let registry = Registry::new(runtime(), builtins());
    apply(&registry, &config(""));
    let yaml = "
plugins:
  - name: gate
    source: builtin:hostile
    handles:
      policies: [canary-check]
    grants:
      metrics: [prometheus]
    config: {threshold: 0.99}
  - name: deploy
    source: configMap:missing.wasm
    world: workload
    handles:
      workloads: [{apiVersion: apps/v1, kind: Deployment}]
  - name: gate
    source: builtin:hostile
  - name: typo
    source: builtin:hostile
    handels: {}
  - name: nameless-world
    source: file:/nonexistent/plugin.wasm
  - name: stranger
    source: builtin:nginx
  - name: greedy
    source: builtin:hostile
    handles:
      policies: [canary-check]
";
    let report = apply(&registry, yaml);
    assert_eq!(names(&report.unchanged), ["gate"]);
    let refused: BTreeMap<&str, String> = report
        .refused
        .iter()
        .map(|r| (r.name.as_str(), r.to_string()))
        .collect();
    let expect = |name: &str, fragment: &str| {
        let message = &refused[name];
        assert!(message.contains(fragment), "{name}: {message}");
    };
    expect(
        "deploy",
        "cannot read its wasm from configMap:missing.wasm: the ConfigMap has no binaryData key \"missing.wasm\"",
    );
    expect("deploy", "still serving the previous version");
    expect("gate", "entry #3 repeats the name of an earlier entry");
    expect("typo", "unknown field `handels`");
    expect(
        "nameless-world",
        "cannot read its wasm from file:/nonexistent/plugin.wasm",
    );
    expect(
        "stranger",
        "there is no built-in plugin \"nginx\" (built in: hostile)",
    );
    expect(
        "greedy",
        "handles policy \"canary-check\", which plugin \"gate\" already handles",
    );
    assert_eq!(refused.len(), 6);

    let set = registry.current();
    assert_eq!(set.len(), 2, "gate and the previous deploy stay in service");
    assert!(set.workload("apps/v1", "Deployment").is_some());
}

#[test]
fn an_unreadable_file_changes_nothing_and_removal_is_reported() {
    let registry = Registry::new(runtime(), builtins());
    apply(&registry, &config(""));
    let report = apply(&registry, "plugins: [");
    let problem = report.invalid_file.expect("the file is refused");
    assert!(
        problem.starts_with("plugins.yaml is not valid, keeping all 2 plugins as they are"),
        "{problem}"
    );
    assert_eq!(registry.current().len(), 2);

    let report = apply(&registry, "plugins: []");
    assert_eq!(names(&report.removed), ["deploy", "gate"]);
    assert!(registry.current().is_empty());
}

#[test]
fn a_workload_source_needs_a_world() {
    let registry = Registry::new(runtime(), builtins());
    let report = apply(
        &registry,
        "plugins: [{name: x, source: 'configMap:hostile.wasm'}]",
    );
    assert!(
        report.refused[0].to_string().contains("world is required"),
        "{report:?}"
    );
}

#[test]
fn apply_async_runs_on_the_blocking_pool() {
    let registry = Registry::new(runtime(), builtins());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let report = tokio.block_on(registry.apply_async(config(""), binary_data()));
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(registry.current().len(), 2);
}
