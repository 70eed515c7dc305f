//! A metrics endpoint whose error rate a test sets, scraped by the test cluster's Prometheus
//! (tests/cluster/up.sh), and queries of that Prometheus.
//!
//! The endpoint serves `waxwing_e2e_requests_total{code="200"|"500"}` for a simulated 100
//! requests per second, the share of 500s being the error ratio the test sets. The counters
//! are computed from the time elapsed, so `rate()` over them is exact whatever the scrape
//! times. It registers itself with Prometheus through a file_sd target file (one per
//! endpoint) that labels its series with the test's namespace, so parallel tests never see
//! each other's series. Prometheus scrapes every second and re-reads the target files every
//! second.
//!
//! ```no_run
//! # async fn t() -> anyhow::Result<()> {
//! use waxwing_e2e::metrics::{MetricsEndpoint, instant_query};
//! let endpoint = MetricsEndpoint::start("e2e-my-test-1a2b").await?;
//! endpoint.set_error_ratio(0.3);
//! let seen = endpoint.wait_scraped(0.3).await?; // Prometheus now reports ~0.3
//! let query = endpoint.error_ratio_query();    // for an AnalysisTemplate
//! let up = instant_query("up{namespace=\"e2e-my-test-1a2b\"}").await?; // Some(1.0)
//! # Ok(()) }
//! ```
//!
//! Where Prometheus is: `WAXWING_PROMETHEUS_URL` and `WAXWING_PROMETHEUS_TARGETS` if set, else
//! the files up.sh writes beside the kubeconfig: `<state>/prometheus/address` and the directory
//! `<state>/prometheus/targets` (state = the directory of [`kubeconfig_path`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{Check, kubeconfig_path, poll_until};

/// Simulated requests per second.
pub const REQUESTS_PER_SECOND: f64 = 100.0;
/// The counter the endpoint serves, with a `code` label of `"200"` or `"500"`.
pub const REQUESTS_METRIC: &str = "waxwing_e2e_requests_total";
/// Window of [`MetricsEndpoint::error_ratio_query`]: four scrapes.
pub const DEFAULT_WINDOW: &str = "4s";
/// How far the value Prometheus reports may be from the ratio set, in [`MetricsEndpoint::wait_scraped`].
pub const TOLERANCE: f64 = 0.02;
/// Bound of [`MetricsEndpoint::wait_scraped`].
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(60);

const HOW_TO_START: &str = "restart the test cluster with `make cluster-up` (it starts Prometheus)";

/// Where the cluster keeps Prometheus's address and target files (beside the kubeconfig).
fn prometheus_state() -> PathBuf {
    kubeconfig_path()
        .parent()
        .map(|dir| dir.join("prometheus"))
        .unwrap_or_default()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The test cluster's Prometheus, `http://127.0.0.1:PORT`.
pub fn prometheus_address() -> Result<String> {
    if let Some(url) = env("WAXWING_PROMETHEUS_URL") {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let file = prometheus_state().join("address");
    Ok(std::fs::read_to_string(&file)
        .with_context(|| {
            format!(
                "no Prometheus in the test cluster ({} is missing): {HOW_TO_START}",
                file.display()
            )
        })?
        .trim()
        .trim_end_matches('/')
        .to_owned())
}

/// The directory Prometheus reads file_sd target files from (`*.json`).
pub fn targets_dir() -> Result<PathBuf> {
    let dir = env("WAXWING_PROMETHEUS_TARGETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| prometheus_state().join("targets"));
    if !dir.is_dir() {
        bail!(
            "no Prometheus target directory {}: {HOW_TO_START}",
            dir.display()
        );
    }
    Ok(dir)
}

/// PromQL of the share of 5xx of the endpoints registered for `namespace`, over `window`
/// (e.g. `"4s"`, `"1m"`): `sum(rate(5xx)) / sum(rate(all))`.
pub fn error_ratio_query(namespace: &str, window: &str) -> String {
    format!(
        "sum(rate({REQUESTS_METRIC}{{namespace=\"{namespace}\",code=~\"5..\"}}[{window}])) / \
         sum(rate({REQUESTS_METRIC}{{namespace=\"{namespace}\"}}[{window}]))"
    )
}

/// Counters as of the last change of the ratio.
struct Counters {
    since: Instant,
    ok: f64,
    errors: f64,
    ratio: f64,
}

impl Counters {
    fn now(&self) -> (f64, f64) {
        let requests = self.since.elapsed().as_secs_f64() * REQUESTS_PER_SECOND;
        (
            self.ok + requests * (1.0 - self.ratio),
            self.errors + requests * self.ratio,
        )
    }
}

/// A running endpoint; dropping it stops it and removes its target file.
pub struct MetricsEndpoint {
    namespace: String,
    address: String,
    counters: Arc<Mutex<Counters>>,
    target_file: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Serves `/metrics` on 127.0.0.1 (a free port) with no errors, and registers it with
    /// Prometheus, its series labelled `namespace="<namespace>"`.
    pub async fn start(namespace: &str) -> Result<Self> {
        Self::start_in(namespace, &targets_dir()?).await
    }

    async fn start_in(namespace: &str, targets: &std::path::Path) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let counters = Arc::new(Mutex::new(Counters {
            since: Instant::now(),
            ok: 0.0,
            errors: 0.0,
            ratio: 0.0,
        }));
        let served = Arc::clone(&counters);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&served)));
            }
        });
        // One file per endpoint (the port makes it unique), written whole then renamed:
        // Prometheus reads only `*.json` and never half a file.
        let port = address.rsplit(':').next().unwrap_or_default();
        let target_file = targets.join(format!("{namespace}-{port}.json"));
        let target = serde_json::json!([{
            "targets": [address],
            "labels": {"namespace": namespace},
        }]);
        let partial = target_file.with_extension("json.tmp");
        std::fs::write(&partial, target.to_string())
            .with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &target_file)?;
        Ok(MetricsEndpoint {
            namespace: namespace.to_owned(),
            address,
            counters,
            target_file,
            server,
        })
    }

    /// The namespace label of this endpoint's series.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `127.0.0.1:PORT`, the scrape target (Prometheus's `instance` label).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// From now on, this share (0.0..=1.0) of the simulated requests fails with a 500.
    pub fn set_error_ratio(&self, ratio: f64) {
        let ratio = ratio.clamp(0.0, 1.0);
        if let Ok(mut counters) = self.counters.lock() {
            let (ok, errors) = counters.now();
            *counters = Counters {
                since: Instant::now(),
                ok,
                errors,
                ratio,
            };
        }
    }

    /// The PromQL of this endpoint's error ratio over the last [`DEFAULT_WINDOW`].
    pub fn error_ratio_query(&self) -> String {
        error_ratio_query(&self.namespace, DEFAULT_WINDOW)
    }

    /// The PromQL of this endpoint's error ratio over `window` (e.g. `"30s"`).
    pub fn error_ratio_query_over(&self, window: &str) -> String {
        error_ratio_query(&self.namespace, window)
    }

    /// Waits (up to [`SCRAPE_TIMEOUT`]) until Prometheus reports an error ratio within
    /// [`TOLERANCE`] of `ratio` for [`Self::error_ratio_query`]; returns the value seen.
    pub async fn wait_scraped(&self, ratio: f64) -> Result<f64> {
        let query = self.error_ratio_query();
        poll_until(
            &format!(
                "Prometheus to report an error ratio of {ratio} for namespace {}",
                self.namespace
            ),
            SCRAPE_TIMEOUT,
            || async {
                Ok(match instant_query(&query).await? {
                    Some(value) if (value - ratio).abs() <= TOLERANCE => Check::Done(value),
                    seen => Check::Pending(format!("{query} gives {seen:?}")),
                })
            },
        )
        .await
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_file(&self.target_file);
    }
}

/// Answers one HTTP/1.1 request: the metrics on `/metrics`, 404 elsewhere; then closes.
async fn serve(mut stream: TcpStream, counters: Arc<Mutex<Counters>>) {
    // Read the request head whole (a response before that, then a close, could reset the
    // connection under the client's feet).
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    let path = head
        .split(|&b| b == b' ')
        .nth(1)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let (status, body) = if path == "/metrics" || path.starts_with("/metrics?") {
        let (ok, errors) = counters.lock().map(|c| c.now()).unwrap_or_default();
        let m = REQUESTS_METRIC;
        (
            "200 OK",
            format!(
                "# HELP {m} Simulated requests of the e2e test, by status code.\n\
                 # TYPE {m} counter\n\
                 {m}{{code=\"200\"}} {ok}\n\
                 {m}{{code=\"500\"}} {errors}\n"
            ),
        )
    } else {
        (
            "404 Not Found",
            "not found: only /metrics is served\n".to_owned(),
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The first value of an instant query's vector (or its scalar), or `None` when the vector is
/// empty (no series yet, or a division by an absent series).
pub async fn instant_query(query: &str) -> Result<Option<f64>> {
    let answer = api_get("/api/v1/query", query).await?;
    let data = &answer["data"];
    let value = match data["resultType"].as_str() {
        Some("scalar") => &data["result"][1],
        _ => &data["result"][0]["value"][1],
    };
    let value = value
        .as_str()
        .map(str::parse::<f64>)
        .transpose()
        .with_context(|| format!("Prometheus answered {answer}"))?;
    Ok(value)
}

/// GET `path?query=<query>` from Prometheus's HTTP API; the decoded JSON of a success.
async fn api_get(path: &str, query: &str) -> Result<serde_json::Value> {
    let base = prometheus_address()?;
    let host = base
        .strip_prefix("http://")
        .with_context(|| format!("Prometheus address {base} is not http://host:port"))?;
    let request = format!(
        "GET {path}?query={} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n",
        percent_encode(query)
    );
    let exchange = async {
        let mut stream = TcpStream::connect(host).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        anyhow::Ok(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .with_context(|| format!("Prometheus {base} did not answer {path} within 10s"))?
        .with_context(|| format!("querying Prometheus {base}{path}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("malformed HTTP response from Prometheus: {text}"))?;
    let status = head.split(' ').nth(1).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body).with_context(|| {
        format!("Prometheus {base}{path} answered {status} with non-JSON: {body}")
    })?;
    if status != "200" || json["status"] != "success" {
        bail!(
            "Prometheus {base}{path} refused {query:?}: {status} {}: {}",
            json["errorType"].as_str().unwrap_or_default(),
            json["error"].as_str().unwrap_or(body)
        );
    }
    Ok(json)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_ratio_query_selects_one_namespace() {
        let q = error_ratio_query("e2e-a", "30s");
        assert_eq!(
            q,
            "sum(rate(waxwing_e2e_requests_total{namespace=\"e2e-a\",code=~\"5..\"}[30s])) / \
             sum(rate(waxwing_e2e_requests_total{namespace=\"e2e-a\"}[30s]))"
        );
    }

    #[test]
    fn counters_grow_at_the_set_rate_and_ratio() {
        let c = Counters {
            since: Instant::now() - Duration::from_secs(10),
            ok: 5.0,
            errors: 1.0,
            ratio: 0.25,
        };
        let (ok, errors) = c.now();
        // 10 s at 100/s: 750 more successes and 250 more errors (plus the microseconds since).
        assert!((ok - 755.0).abs() < 1.0, "{ok}");
        assert!((errors - 251.0).abs() < 1.0, "{errors}");
    }

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(percent_encode("up{a=\"b c\"}"), "up%7Ba%3D%22b%20c%22%7D");
    }

    #[tokio::test]
    async fn the_endpoint_serves_prometheus_text() {
        let dir = std::env::temp_dir().join(crate::unique_name("waxwing-e2e-targets"));
        std::fs::create_dir_all(&dir).unwrap();
        let endpoint = MetricsEndpoint::start_in("e2e-unit", &dir).await.unwrap();
        endpoint.set_error_ratio(1.0);
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let target = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(target.contains(endpoint.address()), "{target}");
        assert!(target.contains("\"namespace\":\"e2e-unit\""), "{target}");

        let mut stream = TcpStream::connect(endpoint.address()).await.unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("waxwing_e2e_requests_total{code=\"500\"} "),
            "{response}"
        );
        drop(endpoint);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir(&dir);
    }
}
