//! The test cluster's Prometheus (tests/cluster/up.sh) and the e2e metrics endpoint
//! (`waxwing_e2e::metrics`): an endpoint registered through its file_sd target file is scraped,
//! its series carry the test's namespace, and the error ratio Prometheus computes follows the
//! ratio the test sets. Real sockets, loopback only; no controller needed.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use waxwing_e2e::metrics::{MetricsEndpoint, TOLERANCE, instant_query, targets_dir};
use waxwing_e2e::unique_name;

#[tokio::test]
async fn prometheus_scrapes_an_endpoint_and_follows_its_error_ratio() -> Result<()> {
    let ns = unique_name("e2e-prom-harness");
    let started = Instant::now();
    let endpoint = MetricsEndpoint::start(&ns).await?;

    // Ratio 0: nothing fails (0 / n, not an empty result, once two scrapes are in).
    let zero = endpoint.wait_scraped(0.0).await?;
    ensure!(zero.abs() <= TOLERANCE, "error ratio {zero}, want ~0");
    let first_scrapes = started.elapsed();

    // The target is up, labelled with the namespace and found through the file_sd file.
    let up = instant_query(&format!("up{{namespace=\"{ns}\",job=\"e2e\"}}")).await?;
    ensure!(up == Some(1.0), "up{{namespace={ns}}} is {up:?}, want 1");
    let instance = instant_query(&format!(
        "count(up{{namespace=\"{ns}\",instance=\"{}\"}})",
        endpoint.address()
    ))
    .await?;
    ensure!(
        instance == Some(1.0),
        "one target {}: {instance:?}",
        endpoint.address()
    );

    // Half the requests fail: the 4 s window reports it within a bounded wait.
    let set = Instant::now();
    endpoint.set_error_ratio(0.5);
    let half = endpoint.wait_scraped(0.5).await?;
    ensure!(
        (half - 0.5).abs() <= TOLERANCE,
        "error ratio {half}, want ~0.5"
    );
    let followed = set.elapsed();
    ensure!(
        followed < Duration::from_secs(20),
        "the query took {followed:?} to follow the new ratio"
    );

    // Another namespace sees nothing of this one.
    let other = instant_query(&waxwing_e2e::metrics::error_ratio_query(
        &unique_name("e2e-prom-nobody"),
        "4s",
    ))
    .await?;
    ensure!(
        other.is_none(),
        "a namespace without endpoints has a value: {other:?}"
    );

    // Dropped: its target file is gone, and Prometheus stops scraping it.
    let prefix = format!("{ns}-");
    drop(endpoint);
    let left = std::fs::read_dir(targets_dir()?)?
        .flatten()
        .filter(|f| f.file_name().to_string_lossy().starts_with(&prefix))
        .count();
    ensure!(left == 0, "{left} target file(s) of {ns} left behind");
    waxwing_e2e::poll_until(
        "Prometheus to drop the endpoint's target",
        Duration::from_secs(30),
        || async {
            Ok(
                match instant_query(&format!("up{{namespace=\"{ns}\"}}")).await? {
                    None => waxwing_e2e::Check::Done(()),
                    Some(v) => waxwing_e2e::Check::Pending(format!("up is {v}")),
                },
            )
        },
    )
    .await?;
    eprintln!(
        "prometheus harness: first scrapes after {first_scrapes:?}, ratio 0.5 seen {followed:?} after it was set"
    );
    Ok(())
}
