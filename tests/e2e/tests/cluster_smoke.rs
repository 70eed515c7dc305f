//! Smoke tests of the local test control plane (`make cluster-up`): pods behave like pods
//! for a rollout controller. Each test runs in its own namespace; they run in parallel.
//! Without a running cluster every test fails, telling to run `make cluster-up`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use waxwing_e2e::*;

const IMAGE_V1: &str = "registry.example/echoserver:v1";
const IMAGE_V2: &str = "registry.example/echoserver:v2";
const IMAGE_FAIL: &str = "registry.example/echoserver:fail-v2";

fn pod_template(app: &str, image: &str) -> Value {
    json!({
        "metadata": { "labels": { "app": app } },
        "spec": { "containers": [{ "name": "app", "image": image }] }
    })
}

async fn set_image<K>(api: &Api<K>, name: &str, image: &str) -> Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let patch = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "app", "image": image }] } } } });
    api.patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .with_context(|| format!("setting image of {name} to {image}"))?;
    Ok(())
}

async fn merge_patch_image(api: &Api<DynamicObject>, name: &str, image: &str) -> Result<()> {
    // CRDs don't support strategic merge: JSON patch the first container's image.
    let patch = json!([{ "op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image }]);
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::<()>::Json(serde_json::from_value(patch)?),
    )
    .await
    .with_context(|| format!("setting image of {name} to {image}"))?;
    Ok(())
}

/// Ordinal → image of the pods of a StatefulSet-like workload named `name`.
fn images_by_ordinal(pods: &[Pod], name: &str) -> BTreeMap<u32, String> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| {
            let n = p.metadata.name.as_deref()?;
            let ord = n.strip_prefix(&format!("{name}-"))?.parse().ok()?;
            Some((ord, pod_images(p).join(",")))
        })
        .collect()
}

fn all_ready_with(pods: &[Pod], n: usize, image: &str) -> bool {
    let live: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    live.len() == n
        && live
            .iter()
            .all(|p| pod_running(p) && pod_ready(p) && pod_images(p) == [image])
}

#[tokio::test]
async fn deployment_gets_ready_pods_and_rolls_natively() -> Result<()> {
    let ns = TestNamespace::new("deploy").await?;
    let deploy: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "web" },
        "spec": {
            "replicas": 3,
            "selector": { "matchLabels": { "app": "web" } },
            "template": pod_template("web", IMAGE_V1),
        }
    }))?;
    ns.apply(&deploy).await?;
    let api = ns.api::<Deployment>();
    wait_for(
        &api,
        "web",
        "3 ready and available replicas",
        DEFAULT_TIMEOUT,
        |d| {
            let s = d.status.clone().unwrap_or_default();
            s.ready_replicas == Some(3)
                && s.available_replicas == Some(3)
                && s.updated_replicas == Some(3)
        },
    )
    .await?;
    let pods = ns.pods("app=web").await?;
    ensure!(
        all_ready_with(&pods, 3, IMAGE_V1),
        "pods: {:?}",
        pods.iter().map(summarize).collect::<Vec<_>>()
    );
    let ips: std::collections::BTreeSet<_> = pods
        .iter()
        .filter_map(|p| p.status.as_ref()?.pod_ip.clone())
        .collect();
    ensure!(ips.len() == 3, "pod IPs should be distinct: {ips:?}");

    // Native rolling update to v2: old pods are deleted (kwok pod-delete stage), new ones Ready.
    set_image(&api, "web", IMAGE_V2).await?;
    let d = api.get("web").await?;
    let gen_ = d.metadata.generation.unwrap_or_default();
    wait_for(
        &api,
        "web",
        "rollout to v2 complete",
        DEFAULT_TIMEOUT,
        |d| {
            let s = d.status.clone().unwrap_or_default();
            s.observed_generation >= Some(gen_)
                && s.replicas == Some(3)
                && s.updated_replicas == Some(3)
                && s.ready_replicas == Some(3)
                && s.available_replicas == Some(3)
        },
    )
    .await?;
    wait_for_list(
        &ns.api::<Pod>(),
        &ListParams::default().labels("app=web"),
        "exactly 3 Ready v2 pods",
        DEFAULT_TIMEOUT,
        |p| all_ready_with(p, 3, IMAGE_V2) && p.len() == 3,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn statefulset_partition_updates_only_high_ordinals() -> Result<()> {
    let ns = TestNamespace::new("sts").await?;
    let sts: StatefulSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": { "name": "db" },
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "podManagementPolicy": "Parallel",
            "selector": { "matchLabels": { "app": "db" } },
            "updateStrategy": { "type": "RollingUpdate", "rollingUpdate": { "partition": 2 } },
            "template": pod_template("db", IMAGE_V1),
        }
    }))?;
    ns.apply(&sts).await?;
    let api = ns.api::<StatefulSet>();
    wait_for(&api, "db", "3 ready replicas", DEFAULT_TIMEOUT, |s| {
        s.status.as_ref().and_then(|s| s.ready_replicas) == Some(3)
    })
    .await?;

    set_image(&api, "db", IMAGE_V2).await?;
    let pods = wait_for_list(
        &ns.api::<Pod>(),
        &ListParams::default().labels("app=db"),
        "ordinal 2 updated to v2 and Ready, ordinals 0-1 still v1",
        DEFAULT_TIMEOUT,
        |p| {
            let m = images_by_ordinal(p, "db");
            m.len() == 3
                && m[&0] == IMAGE_V1
                && m[&1] == IMAGE_V1
                && m[&2] == IMAGE_V2
                && p.iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .all(pod_ready)
        },
    )
    .await?;
    ensure!(pods.len() == 3);
    let s = wait_for(
        &api,
        "db",
        "status: 1 updated replica, 3 ready",
        DEFAULT_TIMEOUT,
        |s| {
            let st = s.status.clone().unwrap_or_default();
            st.updated_replicas == Some(1) && st.ready_replicas == Some(3)
        },
    )
    .await?;
    let st = s.status.unwrap_or_default();
    ensure!(
        st.current_revision != st.update_revision,
        "revisions should differ while partitioned: {st:?}"
    );

    // Hold for a moment: the partition must keep 0 and 1 on v1.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let m = images_by_ordinal(&ns.pods("app=db").await?, "db");
    ensure!(
        m.get(&0).map(String::as_str) == Some(IMAGE_V1)
            && m.get(&1).map(String::as_str) == Some(IMAGE_V1),
        "{m:?}"
    );
    Ok(())
}

#[tokio::test]
async fn statefulset_volume_claim_templates_get_bound_volumes() -> Result<()> {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    let ns = TestNamespace::new("stsvol").await?;
    ns.apply_yaml(&format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: vol
spec:
  replicas: 2
  serviceName: vol
  podManagementPolicy: Parallel
  selector:
    matchLabels: {{app: vol}}
  template:
    metadata:
      labels: {{app: vol}}
    spec:
      containers:
      - name: app
        image: {IMAGE_V1}
        volumeMounts: [{{name: data, mountPath: /data}}]
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: 1Gi}}}}
"#
    ))
    .await?;
    wait_for_list(
        &ns.api::<PersistentVolumeClaim>(),
        &ListParams::default().labels("app=vol"),
        "2 Bound PVCs (default StorageClass kwok-volume)",
        DEFAULT_TIMEOUT,
        |l| {
            l.len() == 2
                && l.iter()
                    .all(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
        },
    )
    .await?;
    wait_for(
        &ns.api::<StatefulSet>(),
        "vol",
        "2 ready replicas",
        DEFAULT_TIMEOUT,
        |s| s.status.as_ref().and_then(|s| s.ready_replicas) == Some(2),
    )
    .await?;
    Ok(())
}

fn kruise_api(ns: &TestNamespace, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps.kruise.io", version, kind),
        plural,
    );
    Api::namespaced_with(ns.client(), ns.name(), &ar)
}

fn status_i64(o: &DynamicObject, field: &str) -> i64 {
    o.data
        .pointer(&format!("/status/{field}"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn kruise_cloneset_gets_ready_pods_and_honours_partition() -> Result<()> {
    let ns = TestNamespace::new("cloneset").await?;
    ns.apply_yaml(&format!(
        r#"
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: cs
spec:
  replicas: 3
  selector:
    matchLabels: {{app: cs}}
  updateStrategy:
    type: ReCreate
    partition: 2
  template:
    metadata:
      labels: {{app: cs}}
    spec:
      containers:
      - name: app
        image: {IMAGE_V1}
"#
    ))
    .await?;
    let api = kruise_api(&ns, "v1alpha1", "CloneSet", "clonesets");
    wait_for(&api, "cs", "3 ready replicas", DEFAULT_TIMEOUT, |o| {
        status_i64(o, "readyReplicas") == 3 && status_i64(o, "availableReplicas") == 3
    })
    .await?;
    ensure!(all_ready_with(&ns.pods("app=cs").await?, 3, IMAGE_V1));

    merge_patch_image(&api, "cs", IMAGE_V2).await?;
    wait_for(
        &api,
        "cs",
        "partition 2: exactly 1 updated and ready replica, 3 ready",
        DEFAULT_TIMEOUT,
        |o| {
            status_i64(o, "updatedReplicas") == 1
                && status_i64(o, "updatedReadyReplicas") == 1
                && status_i64(o, "readyReplicas") == 3
                && status_i64(o, "replicas") == 3
        },
    )
    .await?;
    wait_for_list(
        &ns.api::<Pod>(),
        &ListParams::default().labels("app=cs"),
        "1 v2 pod and 2 v1 pods, all Ready",
        DEFAULT_TIMEOUT,
        |p| {
            let live: Vec<&Pod> = p
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            let v2 = live.iter().filter(|p| pod_images(p) == [IMAGE_V2]).count();
            let v1 = live.iter().filter(|p| pod_images(p) == [IMAGE_V1]).count();
            live.len() == 3 && v2 == 1 && v1 == 2 && live.iter().all(|p| pod_ready(p))
        },
    )
    .await?;

    // Lifting the partition completes the update.
    let patch = json!({ "spec": { "updateStrategy": { "partition": 0 } } });
    api.patch("cs", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    wait_for_list(
        &ns.api::<Pod>(),
        &ListParams::default().labels("app=cs"),
        "3 Ready v2 pods",
        DEFAULT_TIMEOUT,
        |p| all_ready_with(p, 3, IMAGE_V2),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn kruise_cloneset_in_place_update_completes() -> Result<()> {
    let ns = TestNamespace::new("inplace").await?;
    ns.apply_yaml(&format!(
        r#"
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: ip
spec:
  replicas: 2
  selector:
    matchLabels: {{app: ip}}
  updateStrategy:
    type: InPlaceIfPossible
  template:
    metadata:
      labels: {{app: ip}}
    spec:
      containers:
      - name: app
        image: {IMAGE_V1}
"#
    ))
    .await?;
    let api = kruise_api(&ns, "v1alpha1", "CloneSet", "clonesets");
    wait_for(&api, "ip", "2 ready replicas", DEFAULT_TIMEOUT, |o| {
        status_i64(o, "readyReplicas") == 2
    })
    .await?;
    let before: std::collections::BTreeSet<String> = ns
        .pods("app=ip")
        .await?
        .iter()
        .filter_map(|p| p.metadata.uid.clone())
        .collect();

    merge_patch_image(&api, "ip", IMAGE_V2).await?;
    wait_for(
        &api,
        "ip",
        "in-place update done: 2 updated ready replicas",
        DEFAULT_TIMEOUT,
        |o| status_i64(o, "updatedReadyReplicas") == 2 && status_i64(o, "readyReplicas") == 2,
    )
    .await?;
    let pods = wait_for_list(
        &ns.api::<Pod>(),
        &ListParams::default().labels("app=ip"),
        "2 Ready pods running v2",
        DEFAULT_TIMEOUT,
        |p| {
            all_ready_with(p, 2, IMAGE_V2)
                && p.iter().all(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .is_some_and(|cs| cs.iter().all(|c| c.image == IMAGE_V2))
                })
        },
    )
    .await?;
    let after: std::collections::BTreeSet<String> =
        pods.iter().filter_map(|p| p.metadata.uid.clone()).collect();
    ensure!(
        before == after,
        "in-place update must keep the pods (uids before {before:?}, after {after:?})"
    );
    Ok(())
}

#[tokio::test]
async fn kruise_advanced_statefulset_honours_partition() -> Result<()> {
    let ns = TestNamespace::new("asts").await?;
    ns.apply_yaml(&format!(
        r#"
apiVersion: apps.kruise.io/v1beta1
kind: StatefulSet
metadata:
  name: asts
spec:
  replicas: 3
  serviceName: asts
  podManagementPolicy: Parallel
  selector:
    matchLabels: {{app: asts}}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      partition: 2
      podUpdatePolicy: ReCreate
  template:
    metadata:
      labels: {{app: asts}}
    spec:
      containers:
      - name: app
        image: {IMAGE_V1}
"#
    ))
    .await?;
    let api = kruise_api(&ns, "v1beta1", "StatefulSet", "statefulsets");
    wait_for(&api, "asts", "3 ready replicas", DEFAULT_TIMEOUT, |o| {
        status_i64(o, "readyReplicas") == 3
    })
    .await?;

    merge_patch_image(&api, "asts", IMAGE_V2).await?;
    wait_for_list(
        &ns.api::<Pod>(),
        &ListParams::default().labels("app=asts"),
        "ordinal 2 on v2 and Ready, ordinals 0-1 still v1",
        DEFAULT_TIMEOUT,
        |p| {
            let m = images_by_ordinal(p, "asts");
            m.len() == 3
                && m[&0] == IMAGE_V1
                && m[&1] == IMAGE_V1
                && m[&2] == IMAGE_V2
                && p.iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .all(pod_ready)
        },
    )
    .await?;
    wait_for(
        &api,
        "asts",
        "status: 1 updated replica, 3 ready",
        DEFAULT_TIMEOUT,
        |o| status_i64(o, "updatedReplicas") == 1 && status_i64(o, "readyReplicas") == 3,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn httproute_weighted_backends_accepted_and_invalid_rejected() -> Result<()> {
    let ns = TestNamespace::new("httproute").await?;
    let route = |name: &str, canary_weight: i64| {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
spec:
  parentRefs:
  - name: gw
  hostnames: ["echo.example.com"]
  rules:
  - matches:
    - path: {{type: PathPrefix, value: /}}
      headers:
      - {{name: x-canary, value: "true"}}
      queryParams:
      - {{type: Exact, name: canary, value: "yes"}}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - {{name: x-waxwing, value: canary}}
    backendRefs:
    - {{name: echo-stable, port: 80, weight: 90}}
    - {{name: echo-canary, port: 80, weight: {canary_weight}}}
"#
        )
    };
    let applied = ns.apply_yaml(&route("echo", 10)).await?;
    let weights: Vec<i64> = applied[0].data["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .context("backendRefs")?
        .iter()
        .filter_map(|b| b["weight"].as_i64())
        .collect();
    ensure!(weights == [90, 10], "stored weights: {weights:?}");

    let err = ns
        .apply_yaml(&route("bad", -5))
        .await
        .expect_err("a negative backend weight must be rejected");
    let status =
        api_error(&err).with_context(|| format!("expected an API rejection, got: {err:#}"))?;
    ensure!(status.code == 422, "expected 422 Invalid, got {status:?}");
    ensure!(
        status.message.contains("weight"),
        "rejection should name the weight field: {}",
        status.message
    );
    Ok(())
}

#[tokio::test]
async fn failing_image_pods_run_but_never_become_ready() -> Result<()> {
    let ns = TestNamespace::new("failimg").await?;
    let deploy: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "bad" },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "bad" } },
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": 1, "maxUnavailable": 0 } },
            "template": pod_template("bad", IMAGE_V1),
        }
    }))?;
    ns.apply(&deploy).await?;
    let api = ns.api::<Deployment>();
    wait_for(&api, "bad", "2 ready replicas", DEFAULT_TIMEOUT, |d| {
        d.status.as_ref().and_then(|s| s.ready_replicas) == Some(2)
    })
    .await?;

    // A bad release: the new pod runs (scheduled, IP) but is not Ready, so the rollout stalls.
    set_image(&api, "bad", IMAGE_FAIL).await?;
    let pods_api = ns.api::<Pod>();
    wait_for_list(
        &pods_api,
        &ListParams::default().labels("app=bad"),
        "a Running, not Ready :fail pod next to 2 Ready v1 pods",
        DEFAULT_TIMEOUT,
        |p| {
            let failing: Vec<&Pod> = p.iter().filter(|p| pod_images(p) == [IMAGE_FAIL]).collect();
            let good = p
                .iter()
                .filter(|p| pod_images(p) == [IMAGE_V1] && pod_ready(p))
                .count();
            failing.len() == 1
                && failing.iter().all(|p| pod_running(p) && !pod_ready(p))
                && good == 2
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pods = ns.pods("app=bad").await?;
    for p in pods.iter().filter(|p| pod_images(p) == [IMAGE_FAIL]) {
        ensure!(
            pod_running(p) && !pod_ready(p),
            "a :fail pod must stay Running and not Ready: {}",
            summarize(p)
        );
    }
    let d = api.get("bad").await?;
    let s = d.status.unwrap_or_default();
    ensure!(
        s.ready_replicas == Some(2) && s.updated_replicas == Some(1),
        "rollout should be stuck: {s:?}"
    );

    // A fresh workload with a failing image: all pods Running, none Ready.
    let fresh: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "fresh" },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "fresh" } },
            "template": pod_template("fresh", IMAGE_FAIL),
        }
    }))?;
    ns.apply(&fresh).await?;
    wait_for_list(
        &pods_api,
        &ListParams::default().labels("app=fresh"),
        "2 Running, not Ready pods",
        DEFAULT_TIMEOUT,
        |p| p.len() == 2 && p.iter().all(|p| pod_running(p) && !pod_ready(p)),
    )
    .await?;
    let d = api.get("fresh").await?;
    ensure!(
        d.status.and_then(|s| s.ready_replicas).unwrap_or(0) == 0,
        "no replica may be ready"
    );
    Ok(())
}

#[tokio::test]
async fn missing_object_wait_times_out_with_a_clear_message() -> Result<()> {
    let ns = TestNamespace::new("waitmsg").await?;
    let err = wait_for(
        &ns.api::<Deployment>(),
        "nope",
        "never",
        Duration::from_millis(600),
        |_| true,
    )
    .await
    .expect_err("must time out");
    let msg = err.to_string();
    ensure!(
        msg.contains("waiting for never (deployments nope in")
            && msg.contains("last observed: not found"),
        "{msg}"
    );
    Ok(())
}
