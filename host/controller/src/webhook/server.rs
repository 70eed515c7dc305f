//! HTTPS serving: the three webhook paths, each taking and returning a review as JSON.

use std::net::TcpListener;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum_server::tls_rustls::RustlsConfig;
use kube::core::admission::AdmissionResponse;
use rustls::ServerConfig;
use serde::Serialize;

use super::{Context, admission, conversion, takeover, validation};

pub const MUTATE_WORKLOAD: &str = "/mutate-workload";
pub const VALIDATE_ROLLOUT: &str = "/validate-rollout";
pub const CONVERT_ROLLOUT: &str = "/convert-rollout";

/// Serves until the listener fails.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    context: Arc<Context>,
) -> anyhow::Result<()> {
    let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(tls))?;
    server.serve(router(context).into_make_service()).await?;
    Ok(())
}

fn router(context: Arc<Context>) -> Router {
    Router::new()
        .route(MUTATE_WORKLOAD, post(mutate_workload))
        .route(VALIDATE_ROLLOUT, post(validate_rollout))
        .route(CONVERT_ROLLOUT, post(convert_rollout))
        .with_state(context)
}

async fn mutate_workload(State(context): State<Arc<Context>>, body: Bytes) -> Response {
    match admission::Review::parse(&body) {
        Ok(review) => json(&takeover::admit(&context, &review).await.into_review()),
        Err(problem) => json(&AdmissionResponse::invalid(problem).into_review()),
    }
}

async fn validate_rollout(State(context): State<Arc<Context>>, body: Bytes) -> Response {
    match admission::Review::parse(&body) {
        Ok(review) => json(&validation::admit(&context, &review).await.into_review()),
        Err(problem) => json(&AdmissionResponse::invalid(problem).into_review()),
    }
}

async fn convert_rollout(body: Bytes) -> Response {
    match serde_json::from_slice(&body) {
        Ok(review) => json(&conversion::review(review)),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("the body is not a ConversionReview: {e}"),
        )
            .into_response(),
    }
}

fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
    use serde_json::{Value, json};
    use waxwing_runtime::NoHostServices;

    use super::*;
    use crate::webhook::test_support;
    use crate::webhook::tls::Identity;

    /// A context whose API client points nowhere: these requests must not need it.
    fn offline_context() -> Arc<Context> {
        let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
        Arc::new(Context {
            client: kube::Client::try_from(config).unwrap(),
            registry: test_support::empty_registry(),
            services: Arc::new(NoHostServices::new("no cluster in this test")),
        })
    }

    /// POSTs `body` over TLS, trusting only `ca`, and returns the status line and the body.
    fn post(
        port: u16,
        server_name: &str,
        ca: &CertificateDer<'static>,
        path: &str,
        body: &Value,
    ) -> std::io::Result<(String, Value)> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).unwrap();
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        let name = ServerName::try_from(server_name.to_string()).unwrap();
        let connection = ClientConnection::new(Arc::new(config), name).unwrap();
        let socket = std::net::TcpStream::connect(("127.0.0.1", port))?;
        let mut tls = StreamOwned::new(connection, socket);
        let body = body.to_string();
        write!(
            tls,
            "POST {path} HTTP/1.1\r\nHost: {server_name}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = Vec::new();
        match tls.read_to_end(&mut response) {
            Err(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => return Err(e),
            _ => {}
        }
        let response = String::from_utf8_lossy(&response);
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.lines().next().unwrap_or_default().to_string();
        Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn answers_over_tls_for_the_names_in_the_certificate_only() {
        let identity = Identity::generate(&["127.0.0.1".into(), "localhost".into()]).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(serve(
            listener,
            identity.server_config().unwrap(),
            offline_context(),
        ));
        let ca = identity.ca_der().clone();

        let answers = tokio::task::spawn_blocking(move || {
            let conversion = json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                "request": {"uid": "c1", "desiredAPIVersion": "rollouts.kruise.io/v1alpha1",
                            "objects": []}
            });
            let create = json!({
                "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": {"uid": "a1",
                    "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                    "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                    "name": "web", "namespace": "demo", "operation": "CREATE", "userInfo": {},
                    "object": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "metadata": {"name": "web"}}}
            });
            (
                post(port, "localhost", &ca, CONVERT_ROLLOUT, &conversion),
                post(port, "127.0.0.1", &ca, MUTATE_WORKLOAD, &create),
                post(port, "waxwing.example", &ca, CONVERT_ROLLOUT, &conversion),
            )
        })
        .await
        .unwrap();
        server.abort();

        let (status, converted) = answers.0.unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(converted["kind"], "ConversionReview");
        assert_eq!(converted["response"]["uid"], "c1");
        assert_eq!(converted["response"]["result"]["status"], "Success");

        let (status, admitted) = answers.1.unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(admitted["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(admitted["response"]["uid"], "a1");
        assert_eq!(admitted["response"]["allowed"], true);
        assert!(admitted["response"].get("patch").is_none());

        let refused = answers.2.unwrap_err();
        assert!(
            refused.to_string().contains("not valid for name"),
            "a name outside the certificate must fail the handshake: {refused}"
        );
    }
}
