//! The operator's HTTP endpoints: `/metrics` (OpenMetrics text), `/healthz` and `/readyz`.
//! A deliberately small HTTP/1.1 responder (GET and HEAD, one request per connection), so that
//! the operator links no HTTP server framework. Does network I/O.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::metrics::Metrics;

/// The largest request head read; scrapers and probes send a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Shared state of the HTTP endpoints.
#[derive(Clone)]
pub struct Health {
    /// Metrics to expose.
    pub metrics: Arc<Metrics>,
    /// Set once the controller's caches are ready (or this replica is a standby).
    pub ready: Arc<AtomicBool>,
}

/// Serves until the process ends. Binding errors are returned.
pub async fn serve(addr: SocketAddr, health: Health) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, health.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// What a request line asks for: method and path (query dropped).
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    Some((method, target.split('?').next().unwrap_or(target)))
}

/// The status, content type and body for a request. Pure.
fn route(method: &str, path: &str, health: &Health) -> (u16, &'static str, String) {
    if method != "GET" && method != "HEAD" {
        return (405, TEXT, "method not allowed\n".into());
    }
    match path {
        "/metrics" => (200, OPENMETRICS, health.metrics.encode()),
        "/healthz" => (200, TEXT, "ok".into()),
        "/readyz" if health.ready.load(Ordering::Relaxed) => (200, TEXT, "ok".into()),
        "/readyz" => (503, TEXT, "starting".into()),
        _ => (404, TEXT, "not found\n".into()),
    }
}

async fn answer(mut stream: TcpStream, health: Health) {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    let (status, content_type, body) = match (read, request_line(&head)) {
        (Ok(true), Some((method, path))) => {
            let (status, ct, body) = route(method, path, &health);
            (status, ct, if method == "HEAD" { String::new() } else { body })
        }
        (Ok(false), _) | (Err(_), _) => return,
        (Ok(true), None) => (400, TEXT, "bad request\n".to_string()),
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(ready: bool) -> Health {
        Health { metrics: Arc::new(Metrics::new()), ready: Arc::new(AtomicBool::new(ready)) }
    }

    #[test]
    fn request_lines_are_read_with_the_query_dropped() {
        assert_eq!(request_line(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"), Some(("GET", "/metrics")));
        assert_eq!(request_line(b"garbage"), None);
        assert_eq!(request_line(b"GET /metrics SPDY/3\r\n\r\n"), None);
    }

    #[test]
    fn readiness_and_unknown_paths_have_their_status() {
        assert_eq!(route("GET", "/readyz", &health(false)).0, 503);
        assert_eq!(route("GET", "/readyz", &health(true)).0, 200);
        assert_eq!(route("GET", "/healthz", &health(false)).0, 200);
        assert_eq!(route("GET", "/nope", &health(true)).0, 404);
        assert_eq!(route("POST", "/metrics", &health(true)).0, 405);
        let (status, ct, body) = route("GET", "/metrics", &health(true));
        assert_eq!((status, ct), (200, OPENMETRICS));
        assert!(body.ends_with("# EOF\n"), "{body}");
    }
}
