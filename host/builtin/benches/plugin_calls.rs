//! What a plugin call costs: the Deployment plugin through the runtime (fresh store and
//! instance per call, as in production) against the same logic compiled natively; the pause
//! plugin as the floor of a call (instantiation dominates); and compiling vs loading a
//! precompiled built-in from the cache.
//!
//! `cargo bench -p waxwing-builtin -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use waxwing_builtin::{BUILTINS, builtin};
use waxwing_plugin_sdk::types as sdk;
use waxwing_plugin_sdk::workload as sdk_workload;
use waxwing_runtime::{
    BatchContext, CacheDir, Decision, HostServices, NoHostServices, PluginSettings, PolicyContext,
    ReleaseStyle, Replicas, RolloutInfo, Runtime, RuntimeOptions, WorkloadObjects, World,
};

/// Arguments of a golden fixture of the Deployment plugin: a 3 KB Deployment and its two
/// ReplicaSets, mid-rollout.
fn fixture_args(case: &str) -> serde_json::Map<String, Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/deployment/fixtures")
        .join(format!("{case}.json"));
    let text = std::fs::read_to_string(&path).expect("read the fixture");
    let fixture: Value = serde_json::from_str(&text).expect("fixture JSON");
    fixture["args"].as_object().expect("args").clone()
}

fn arg<T: serde::de::DeserializeOwned>(args: &serde_json::Map<String, Value>, name: &str) -> T {
    serde_json::from_value(args[name].clone()).expect("argument of the plugin's type")
}

fn host_objects(objects: &sdk_workload::WorkloadObjects) -> WorkloadObjects {
    WorkloadObjects {
        workload: objects.workload.clone(),
        related: objects.related.clone(),
    }
}

fn host_ctx(ctx: &sdk_workload::BatchContext) -> BatchContext {
    BatchContext {
        rollout: RolloutInfo {
            namespace: ctx.rollout.namespace.clone(),
            name: ctx.rollout.name.clone(),
            rollout_id: ctx.rollout.rollout_id.clone(),
        },
        style: match ctx.style {
            sdk_workload::ReleaseStyle::Canary => ReleaseStyle::Canary,
            sdk_workload::ReleaseStyle::Partition => ReleaseStyle::Partition,
            sdk_workload::ReleaseStyle::BlueGreen => ReleaseStyle::BlueGreen,
        },
        batch_index: ctx.batch_index,
        step_replicas: match ctx.step_replicas {
            sdk::Replicas::Count(n) => Replicas::Count(n),
            sdk::Replicas::Percent(n) => Replicas::Percent(n),
        },
        planned_replicas: ctx.planned_replicas,
        tolerated_failures: ctx.tolerated_failures,
        stable_revision: ctx.stable_revision.clone(),
        update_revision: ctx.update_revision.clone(),
        pod_template_metadata: ctx.pod_template_metadata.clone(),
    }
}

fn runtime(cache: CacheDir) -> Runtime {
    Runtime::new(RuntimeOptions { cache }).expect("engine")
}

fn deployment_calls(c: &mut Criterion) {
    let runtime = runtime(CacheDir::Disabled);
    let plugin = runtime
        .load(
            "deployment",
            builtin("deployment").unwrap(),
            World::Workload,
            PluginSettings::default(),
        )
        .expect("load deployment");
    let deployment = plugin.as_workload().unwrap().clone();
    let services: Arc<dyn HostServices> = Arc::new(NoHostServices::new("benchmark"));

    let args = fixture_args("observe-partition-in-progress");
    let native_objects: sdk_workload::WorkloadObjects = arg(&args, "objects");
    let objects = host_objects(&native_objects);
    let mut group = c.benchmark_group("observe");
    group.bench_function("wasm", |b| {
        b.iter(|| {
            deployment
                .observe(&services, black_box(&objects))
                .expect("observe")
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| waxwing_plugin_deployment::observe(black_box(&native_objects)).expect("observe"))
    });
    group.finish();

    let args = fixture_args("partition-second-batch-40-percent");
    let native_ctx: sdk_workload::BatchContext = arg(&args, "ctx");
    let native_objects: sdk_workload::WorkloadObjects = arg(&args, "objects");
    let (ctx, objects) = (host_ctx(&native_ctx), host_objects(&native_objects));
    let mut group = c.benchmark_group("release-batch");
    group.bench_function("wasm", |b| {
        b.iter(|| {
            deployment
                .release_batch(&services, black_box(&ctx), black_box(&objects))
                .expect("release-batch")
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            waxwing_plugin_deployment::release_batch(
                black_box(&native_ctx),
                black_box(&native_objects),
            )
            .expect("release-batch")
        })
    });
    group.finish();
}

/// The smallest call there is: fresh store, instantiation, a trivial evaluate.
fn instantiate(c: &mut Criterion) {
    let runtime = runtime(CacheDir::Disabled);
    let plugin = runtime
        .load(
            "pause",
            builtin("pause").unwrap(),
            World::Policy,
            PluginSettings::default(),
        )
        .expect("load pause");
    let pause = plugin.as_policy().unwrap().clone();
    let services: Arc<dyn HostServices> = Arc::new(NoHostServices::new("benchmark"));
    let ctx = PolicyContext {
        rollout: RolloutInfo {
            namespace: "default".into(),
            name: "web".into(),
            rollout_id: None,
        },
        step_index: 1,
        step_count: 3,
        elapsed_ms: 0,
        now_unix_ms: 0,
        config: "{}".into(),
        args: vec![],
    };
    c.bench_function("pause-evaluate/wasm", |b| {
        b.iter(|| {
            let decision = pause
                .evaluate(&services, black_box(&ctx))
                .expect("evaluate");
            assert!(matches!(decision, Decision::Pause(_)));
        })
    });
}

fn compile(c: &mut Criterion) {
    let uncached = runtime(CacheDir::Disabled);
    let cache_dir =
        std::env::temp_dir().join(format!("waxwing-bench-cache-{}", std::process::id()));
    let cached = runtime(CacheDir::Path(cache_dir.clone()));
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    for (name, _, wasm) in BUILTINS {
        group.bench_function(format!("{name}/compile"), |b| {
            b.iter(|| uncached.compile(name, black_box(wasm)).expect("compile"))
        });
        cached.compile(name, wasm).expect("fill the cache");
        group.bench_function(format!("{name}/cached-load"), |b| {
            b.iter(|| cached.compile(name, black_box(wasm)).expect("load"))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(cache_dir);
}

criterion_group!(benches, deployment_calls, instantiate, compile);
criterion_main!(benches);
