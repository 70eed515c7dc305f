//! The `metrics` import of policy plugins: queries of the providers configured under
//! `metricProviders` in the plugin ConfigMap. The runtime has already checked that the plugin
//! was granted the provider; here the provider's address and timeout are looked up and the
//! query is made over HTTP (or HTTPS, trusting the system's CA certificates).
//!
//! Prometheus: `GET /api/v1/query` (instant, at the host's now) or `/api/v1/query_range` (a
//! window ending now); the plugin receives the answer's `data` object as JSON text.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::StatusCode;
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use waxwing_runtime::{MetricProvider, MetricQuery, PluginSet, ProviderKind};

/// The largest answer read from a provider: more is a query that selects far too much.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// One client for the process, so connections to a provider are reused across reconciles.
static CLIENT: LazyLock<Client<HttpsConnector<HttpConnector>, Empty<Bytes>>> =
    LazyLock::new(|| {
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls_config())
            .https_or_http()
            .enable_http1()
            .build();
        Client::builder(TokioExecutor::new()).build(connector)
    });

/// TLS trusting the system's CA certificates. Without any, https providers fail to verify
/// (and say so) while http ones still work.
fn tls_config() -> rustls::ClientConfig {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        tracing::warn!(
            errors = ?found.errors,
            "no CA certificates found on this system: https metrics providers cannot be verified"
        );
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Runs a plugin's query against the provider configured under that name.
pub async fn query(
    plugins: &PluginSet,
    provider: &str,
    request: &MetricQuery,
) -> Result<String, String> {
    let configured = plugins.metric_provider(provider).ok_or_else(|| {
        format!(
            "metrics provider {provider:?} is not configured in the waxwing-plugins ConfigMap \
             (metricProviders)"
        )
    })?;
    match configured.kind {
        ProviderKind::Prometheus => {
            let url = prometheus_url(&configured.address, request, SystemTime::now())?;
            let (status, body) = get(configured, &url).await?;
            prometheus_data(configured, status, &body)
        }
    }
}

/// The Prometheus HTTP API URL of a query, instant at `now` or over the window ending `now`.
fn prometheus_url(address: &str, request: &MetricQuery, now: SystemTime) -> Result<String, String> {
    let seconds = |t: SystemTime| {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        format!("{}.{:03}", since.as_secs(), since.subsec_millis())
    };
    let mut params = form_urlencoded::Serializer::new(String::new());
    params.append_pair("query", &request.query);
    let path = match &request.range {
        None => {
            params.append_pair("time", &seconds(now));
            "query"
        }
        Some(range) => {
            if range.step_seconds == 0 {
                return Err("a range query needs step-seconds of at least 1".to_string());
            }
            let start = now
                .checked_sub(Duration::from_secs(range.lookback_seconds.into()))
                .unwrap_or(UNIX_EPOCH);
            params
                .append_pair("start", &seconds(start))
                .append_pair("end", &seconds(now))
                .append_pair("step", &range.step_seconds.to_string());
            "query_range"
        }
    };
    Ok(format!("{address}/api/v1/{path}?{}", params.finish()))
}

/// The status and body of a GET, within the provider's timeout and the answer size bound.
async fn get(provider: &MetricProvider, url: &str) -> Result<(StatusCode, Bytes), String> {
    let unreachable = |why: String| {
        format!(
            "cannot reach metrics provider {:?} at {}: {why}",
            provider.name, provider.address
        )
    };
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| unreachable(format!("{url} is not a valid URL: {e}")))?;
    let exchange = async {
        let response = CLIENT.get(uri).await.map_err(|e| unreachable(cause(&e)))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!(
                        "metrics provider {:?} answered with more than {} MiB: narrow the query",
                        provider.name,
                        MAX_ANSWER_BYTES / (1024 * 1024)
                    )
                } else {
                    unreachable(format!("the answer was cut off: {}", cause(e.as_ref())))
                }
            })?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(provider.timeout, exchange)
        .await
        .map_err(|_| {
            unreachable(format!(
                "no answer within {} ms (the provider's timeout)",
                provider.timeout.as_millis()
            ))
        })?
}

/// The innermost cause of a client error, which names what went wrong ("connection refused")
/// where the outer ones only say "client error (Connect)".
fn cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    match innermost.downcast_ref::<std::io::Error>() {
        // "connection refused" rather than "Connection refused (os error 111)".
        Some(io) if io.raw_os_error().is_some() => io.kind().to_string(),
        _ => innermost.to_string(),
    }
}

/// A Prometheus HTTP API answer; `data` is kept as it came.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrometheusAnswer {
    status: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The `data` of a successful answer, or the provider's error as a person reads it.
fn prometheus_data(
    provider: &MetricProvider,
    status: StatusCode,
    body: &[u8],
) -> Result<String, String> {
    let name = &provider.name;
    match serde_json::from_slice::<PrometheusAnswer>(body) {
        Ok(PrometheusAnswer {
            status: answered,
            data: Some(data),
            ..
        }) if answered == "success" && status.is_success() => Ok(data.to_string()),
        Ok(PrometheusAnswer {
            status: answered,
            error_type,
            error,
            ..
        }) if answered == "error" => Err(format!(
            "metrics provider {name:?} refused the query (HTTP {}): {}: {}",
            status.as_u16(),
            error_type.as_deref().unwrap_or("error"),
            error.as_deref().unwrap_or("no message")
        )),
        _ if !status.is_success() => Err(format!(
            "metrics provider {name:?} at {} answered HTTP {status}: {}",
            provider.address,
            excerpt(body)
        )),
        Ok(_) | Err(_) => Err(format!(
            "metrics provider {name:?} at {} did not answer like the Prometheus HTTP API \
             (is the address a Prometheus server?): {}",
            provider.address,
            excerpt(body)
        )),
    }
}

/// The start of a body, for a message.
fn excerpt(body: &[u8]) -> String {
    const SHOWN: usize = 200;
    let text = String::from_utf8_lossy(&body[..body.len().min(SHOWN)]);
    let text = text.trim();
    match (text.is_empty(), body.len() > SHOWN) {
        (true, _) => "an empty body".to_string(),
        (false, true) => format!("{text:?}..."),
        (false, false) => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;
    use waxwing_runtime::{ConfigMapWasm, QueryRange, Registry, Runtime, RuntimeOptions};

    use super::*;

    fn instant(query: &str) -> MetricQuery {
        MetricQuery {
            query: query.to_string(),
            range: None,
        }
    }

    fn provider(address: &str) -> MetricProvider {
        MetricProvider {
            name: "prometheus".to_string(),
            kind: ProviderKind::Prometheus,
            address: address.to_string(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn instant_queries_are_at_now() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let url = prometheus_url(
            "http://prom:9090/prefix",
            &instant(r#"sum(rate(http_requests_total{code=~"5.."}[5m])) / 2"#),
            now,
        );
        assert_eq!(
            url.unwrap(),
            "http://prom:9090/prefix/api/v1/query?query=sum%28rate%28http_requests_total%7Bcode%3D%7E%225..%22%7D%5B5m%5D%29%29+%2F+2&time=1700000000.250"
        );
    }

    #[test]
    fn range_queries_end_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let request = MetricQuery {
            query: "up".to_string(),
            range: Some(QueryRange {
                lookback_seconds: 600,
                step_seconds: 30,
            }),
        };
        assert_eq!(
            prometheus_url("http://prom:9090", &request, now).unwrap(),
            "http://prom:9090/api/v1/query_range?query=up&start=1699999400.000&end=1700000000.000&step=30"
        );
        let request = MetricQuery {
            range: Some(QueryRange {
                lookback_seconds: 600,
                step_seconds: 0,
            }),
            ..request
        };
        assert!(prometheus_url("http://p", &request, now).is_err());
    }

    #[test]
    fn answers_are_read_like_the_prometheus_api_writes_them() {
        let p = provider("http://prom:9090");
        let ok = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(
            prometheus_data(&p, StatusCode::OK, ok),
            Ok(r#"{"result":[],"resultType":"vector"}"#.to_string())
        );
        let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#;
        assert_eq!(
            prometheus_data(&p, StatusCode::BAD_REQUEST, bad),
            Err(
                "metrics provider \"prometheus\" refused the query (HTTP 400): bad_data: parse \
                 error at char 4"
                    .to_string()
            )
        );
        assert_eq!(
            prometheus_data(&p, StatusCode::BAD_GATEWAY, b"upstream down\n"),
            Err(
                "metrics provider \"prometheus\" at http://prom:9090 answered HTTP 502 Bad \
                 Gateway: \"upstream down\""
                    .to_string()
            )
        );
        let err = prometheus_data(&p, StatusCode::OK, b"<html>Grafana</html>").unwrap_err();
        assert!(
            err.contains("did not answer like the Prometheus HTTP API"),
            "{err}"
        );
        let err = prometheus_data(&p, StatusCode::OK, br#"{"status":"success"}"#).unwrap_err();
        assert!(err.contains("did not answer like"), "{err}");
    }

    /// A one-shot HTTP server on loopback: answers the first request with `response` and
    /// hands back the request line.
    async fn serve_once(response: Vec<u8>) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let served = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let read = socket.read(&mut buffer).await.unwrap();
                assert!(
                    read > 0,
                    "the client closed before its request was complete"
                );
                request.extend_from_slice(&buffer[..read]);
            }
            // The client may hang up early (an answer past the size bound): not the server's
            // problem.
            let _ = socket.write_all(&response).await;
            let _ = socket.shutdown().await;
            let request = String::from_utf8(request).unwrap();
            request.lines().next().unwrap_or_default().to_string()
        });
        (address, served)
    }

    fn http(status: &str, body: &[u8]) -> Vec<u8> {
        let mut response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        response
    }

    /// A plugin set whose only metrics provider is at `address`.
    fn configured(address: &str, timeout: &str) -> Arc<PluginSet> {
        let runtime = Runtime::new(RuntimeOptions {
            cache: waxwing_runtime::CacheDir::Disabled,
        })
        .unwrap();
        let registry = Registry::new(runtime, &[]);
        let yaml = format!(
            "metricProviders: [{{name: prometheus, type: prometheus, address: '{address}', \
             timeout: {timeout}}}]"
        );
        let report = registry.apply_with_parts(&yaml, &ConfigMapWasm::default());
        assert!(report.is_clean(), "{report:?}");
        registry.current()
    }

    #[tokio::test]
    async fn queries_a_prometheus_server() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.98"]}]}}"#;
        let (address, served) = serve_once(http("200 OK", body)).await;
        let plugins = configured(&address, "5s");
        let answer = query(&plugins, "prometheus", &instant("up == 1")).await;
        assert_eq!(
            answer.unwrap(),
            r#"{"result":[{"metric":{},"value":[1700000000,"0.98"]}],"resultType":"vector"}"#
        );
        let request_line = served.await.unwrap();
        assert!(
            request_line.starts_with("GET /api/v1/query?query=up+%3D%3D+1&time="),
            "{request_line}"
        );
    }

    #[tokio::test]
    async fn reports_the_providers_errors() {
        let body = br#"{"status":"error","errorType":"execution","error":"query timed out"}"#;
        let (address, served) = serve_once(http("422 Unprocessable Entity", body)).await;
        let answer = query(&configured(&address, "5s"), "prometheus", &instant("up")).await;
        assert_eq!(
            answer.unwrap_err(),
            "metrics provider \"prometheus\" refused the query (HTTP 422): execution: query \
             timed out"
        );
        served.await.unwrap();

        let (address, served) = serve_once(http("200 OK", b"not json")).await;
        let answer = query(&configured(&address, "5s"), "prometheus", &instant("up")).await;
        let err = answer.unwrap_err();
        assert!(
            err.contains("did not answer like the Prometheus HTTP API") && err.contains("not json"),
            "{err}"
        );
        served.await.unwrap();
    }

    #[tokio::test]
    async fn bounds_the_answer() {
        let body = vec![b' '; MAX_ANSWER_BYTES + 1];
        let (address, _served) = serve_once(http("200 OK", &body)).await;
        let answer = query(&configured(&address, "5s"), "prometheus", &instant("up")).await;
        let err = answer.unwrap_err();
        assert!(err.contains("more than 16 MiB: narrow the query"), "{err}");
    }

    #[tokio::test]
    async fn says_when_a_provider_cannot_be_reached() {
        // A port nothing listens on: bound, then released.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let answer = query(&configured(&address, "5s"), "prometheus", &instant("up")).await;
        assert_eq!(
            answer.unwrap_err(),
            format!(
                "cannot reach metrics provider \"prometheus\" at {address}: connection refused"
            )
        );

        // A server that accepts and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let answer = query(&configured(&address, "200ms"), "prometheus", &instant("up")).await;
        assert_eq!(
            answer.unwrap_err(),
            format!(
                "cannot reach metrics provider \"prometheus\" at {address}: no answer within \
                 200 ms (the provider's timeout)"
            )
        );
        drop(listener);
    }

    #[tokio::test]
    async fn refuses_providers_that_are_not_configured() {
        let plugins = configured("http://127.0.0.1:1", "1s");
        let answer = query(&plugins, "thanos", &instant("up")).await;
        assert_eq!(
            answer.unwrap_err(),
            "metrics provider \"thanos\" is not configured in the waxwing-plugins ConfigMap \
             (metricProviders)"
        );
    }
}
