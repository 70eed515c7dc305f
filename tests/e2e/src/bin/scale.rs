//! Scale harness: N Deployments with a Rollout each, released at the same moment on the local
//! cluster (`make up`), against the controller that is running. Prints how long the releases
//! took and what they cost the controller (reconciles, reconcile time, CPU and memory), and
//! how long the same Deployments take to roll without Rollouts, by the Deployment controller
//! alone: the part of the time that is the cluster's.
//!
//! `make scale` (or `cargo run -p waxwing-e2e --bin scale -- ROLLOUTS REPLICAS`), defaults 50
//! Rollouts of 4 pods. Each Rollout has two steps, 50% then 100%, with no pause, so the time
//! measured is the controller's and kwok's, not a wait.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::future::try_join_all;
use waxwing_e2e::k8s_openapi::api::apps::v1::Deployment;
use waxwing_e2e::k8s_openapi::api::core::v1::{Node, Pod};
use waxwing_e2e::kube;
use waxwing_e2e::repo_root;
use waxwing_e2e::rollout::{Scenario, common, deployment, phase, rollout};
use waxwing_e2e::waxwing_api::v1beta1::{Rollout, RolloutPhase, StepState};

const STEPS: &str =
    "        - replicas: 50%\n          pause: {duration: 0}\n        - replicas: 100%\n";
const TIMEOUT: Duration = Duration::from_secs(900);
const POLL: Duration = Duration::from_millis(250);

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let rollouts: usize = args
        .next()
        .map_or(Ok(50), |a| a.parse())
        .context("ROLLOUTS")?;
    let replicas: u32 = args
        .next()
        .map_or(Ok(4), |a| a.parse())
        .context("REPLICAS")?;
    let names: Vec<String> = (0..rollouts).map(|i| format!("web-{i}")).collect();

    // A release keeps the old pods while the new ones come up: twice the pods at worst.
    let pods = rollouts * replicas as usize * 2;
    let s = Scenario::new("scale").await?;
    wait_for_room(&s, pods).await?;
    eprintln!(
        "namespace {}: {rollouts} Deployments of {replicas} pods, each with a Rollout",
        s.ns.name()
    );
    try_join_all(names.iter().map(|name| async {
        s.apply(&deployment(name, replicas, "v1")).await?;
        s.apply(&rollout(name, false, STEPS)).await
    }))
    .await?;
    wait_all::<Rollout>(&s, &names, "Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    eprintln!("releasing v2 everywhere");
    let before = Controller::sample().await?;
    let start = Instant::now();
    release_all(&s, &names).await?;
    let done = wait_all::<Rollout>(&s, &names, "the release of v2 completed", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
            && common(r).is_some_and(|c| {
                c.observed_rollout_id == "scale-v2" && c.current_step_state == StepState::Completed
            })
    })
    .await?;
    let wall = start.elapsed();
    let after = Controller::sample().await?;
    s.ns.cleanup().await?;

    // The same Deployments without Rollouts, rolled by the Deployment controller alone: what
    // the cluster itself needs for the pods to move.
    let native = Scenario::new("scale-native").await?;
    // The first namespace's pods are still going.
    wait_for_room(&native, pods).await?;
    eprintln!("namespace {}: the same without Rollouts", native.ns.name());
    try_join_all(
        names
            .iter()
            .map(|name| async { native.apply(&deployment(name, replicas, "v1")).await }),
    )
    .await?;
    wait_all::<Deployment>(&native, &names, "rolled out", rolled_out).await?;
    let native_start = Instant::now();
    release_all(&native, &names).await?;
    let native_done = wait_all::<Deployment>(&native, &names, "rolled out to v2", |d| {
        rolled_out(d) && image(d).is_some_and(|image| image.ends_with(":v2"))
    })
    .await?;
    let native_wall = native_start.elapsed();
    native.ns.cleanup().await?;

    let reconciles = after.reconciles - before.reconciles;
    println!("controller      {}", after.binary);
    println!("rollouts        {rollouts} x {replicas} pods, 2 steps (50%, 100%), released at once");
    println!(
        "all completed   {:.1} s; per rollout {}",
        wall.as_secs_f64(),
        spread(&done, start)
    );
    println!(
        "without Waxwing {:.1} s; per Deployment {} (native rolling update of the same)",
        native_wall.as_secs_f64(),
        spread(&native_done, native_start)
    );
    println!(
        "reconciles      {reconciles} ({:.1} per rollout), mean {:.1} ms",
        reconciles as f64 / rollouts as f64,
        1000.0 * (after.reconcile_seconds - before.reconcile_seconds) / reconciles.max(1) as f64
    );
    println!(
        "controller CPU  {:.1} s over {:.1} s ({:.0}% of one core)",
        after.cpu_seconds - before.cpu_seconds,
        wall.as_secs_f64(),
        100.0 * (after.cpu_seconds - before.cpu_seconds) / wall.as_secs_f64()
    );
    println!(
        "controller RSS  {} MiB now, {} MiB peak",
        after.rss_kib / 1024,
        after.peak_rss_kib / 1024
    );
    Ok(())
}

/// Waits until the nodes have room for `pods` more pods (a fake node holds 110), or says how
/// to get it.
async fn wait_for_room(s: &Scenario, pods: usize) -> Result<()> {
    let client = s.ns.client();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let nodes = kube::Api::<Node>::all(client.clone())
            .list(&Default::default())
            .await?;
        let slots: usize = nodes
            .items
            .iter()
            .filter_map(|node| node.status.as_ref()?.allocatable.as_ref()?.get("pods"))
            .filter_map(|quantity| quantity.0.parse::<usize>().ok())
            .sum();
        let running = kube::Api::<Pod>::all(client.clone())
            .list(&Default::default())
            .await?
            .items
            .iter()
            .filter(|pod| {
                let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                !matches!(phase, Some("Succeeded" | "Failed"))
            })
            .count();
        let free = slots.saturating_sub(running);
        if free >= pods {
            return Ok(());
        }
        // Pods in use may be going (a namespace being deleted); a cluster too small never fits.
        if slots < pods || Instant::now() > deadline {
            bail!(
                "the nodes have room for {free} more pods ({slots} in all, {running} in use), and \
                 this run needs {pods}: start the cluster with more fake nodes, 110 pods each \
                 (make down; NODES={} make up)",
                (running + pods).div_ceil(110)
            );
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Every Deployment's template moved to v2 at once.
async fn release_all(s: &Scenario, names: &[String]) -> Result<()> {
    try_join_all(
        names
            .iter()
            .map(|name| s.release(name, "v2", Some("scale-v2"))),
    )
    .await
    .map(drop)
}

/// p50, p95 and max of the times from `start` to each `done`.
fn spread(done: &BTreeMap<String, Instant>, start: Instant) -> String {
    let mut times: Vec<f64> = done
        .values()
        .map(|at| at.duration_since(start).as_secs_f64())
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.1} s, p95 {:.1} s, max {:.1} s",
        at(0.5),
        at(0.95),
        at(1.0)
    )
}

/// The Deployment controller has finished: every pod updated and available.
fn rolled_out(d: &Deployment) -> bool {
    let (Some(spec), Some(status)) = (&d.spec, &d.status) else {
        return false;
    };
    let want = spec.replicas.unwrap_or(1);
    status.observed_generation == d.metadata.generation
        && status.updated_replicas == Some(want)
        && status.available_replicas == Some(want)
        && status.replicas == Some(want)
}

fn image(d: &Deployment) -> Option<&str> {
    d.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .first()?
        .image
        .as_deref()
}

/// Polls the namespace's objects of kind `K` until every one in `names` satisfies `done`;
/// returns when each was first seen so.
async fn wait_all<K>(
    s: &Scenario,
    names: &[String],
    what: &str,
    done: impl Fn(&K) -> bool,
) -> Result<BTreeMap<String, Instant>>
where
    K: kube::Resource<Scope = waxwing_e2e::k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = BTreeMap::new();
    while seen.len() < names.len() {
        if Instant::now() > deadline {
            bail!(
                "{} of {} not {what} after {TIMEOUT:?}",
                names.len() - seen.len(),
                names.len()
            );
        }
        let list = s.ns.api::<K>().list(&Default::default()).await?;
        for object in list.items.iter().filter(|object| done(object)) {
            let name = object.meta().name.clone().unwrap_or_default();
            seen.entry(name).or_insert_with(Instant::now);
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(seen)
}

/// What the running controller (`make up`'s) has spent so far.
struct Controller {
    binary: String,
    reconciles: u64,
    reconcile_seconds: f64,
    cpu_seconds: f64,
    rss_kib: u64,
    peak_rss_kib: u64,
}

impl Controller {
    async fn sample() -> Result<Self> {
        let cluster = repo_root().join("target/cluster");
        let pid = std::fs::read_to_string(cluster.join("pids/waxwing.pid"))
            .context("no controller pid: run `make up`")?;
        // scripts/controller.sh records "PID STARTTIME".
        let pid = pid.split_whitespace().next().unwrap_or_default();
        let proc = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}"));
        let stat = proc("stat").context("the controller is not running")?;
        // Fields after the command name (which may hold spaces): utime and stime are the
        // 14th and 15th of the line, in clock ticks (100 per second on Linux).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let cpu_seconds = (ticks(11) + ticks(12)) as f64 / 100.0;
        let status = proc("status")?;
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        let binary = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let metrics = metrics().await?;
        let metric = |name: &str| metrics.get(name).copied().unwrap_or(0.0);
        Ok(Self {
            binary,
            reconciles: metric("waxwing_reconciles_total") as u64,
            reconcile_seconds: metric("waxwing_reconcile_duration_seconds_sum"),
            cpu_seconds,
            rss_kib: kib("VmRSS:"),
            peak_rss_kib: kib("VmHWM:"),
        })
    }
}

/// The controller's unlabelled metrics, from its /metrics: the address scripts/controller.sh
/// gives it, WAXWING_PORT_BASE + 90.
async fn metrics() -> Result<BTreeMap<String, f64>> {
    let base: u16 = std::env::var("WAXWING_PORT_BASE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(29400);
    let address = format!("127.0.0.1:{}", base + 90);
    let text = http_get(&address, "/metrics").await?;
    Ok(text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.contains('{'))
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            Some((name.to_owned(), value.trim().parse().ok()?))
        })
        .collect())
}

async fn http_get(address: &str, path: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .with_context(|| format!("controller metrics at {address}"))?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())
        .await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    Ok(body
        .split_once("\r\n\r\n")
        .map_or(body.clone(), |(_, b)| b.to_owned()))
}
