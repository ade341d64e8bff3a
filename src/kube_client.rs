//! The operator's Kubernetes client: kube's own stack (kubeconfig or in-cluster config, TLS,
//! auth, timeouts) with at most `in_flight` requests waiting for the API server's answer at once.
//!
//! kube's client speaks HTTP/1.1, one request per connection at a time, and its pool keeps every
//! connection it ever opened. With a thousand reconciles writing status together it opened a
//! thousand TLS connections (each ~40 KiB of buffers and TLS state kept afterwards: 30-45 MiB at
//! 10,000 VpcRoutes, the largest part of the operator's memory) and spent CPU on the handshakes,
//! while a 2-core API server does not answer faster for being asked a thousand things at once.
//! Further requests wait in the client's queue. A watch holds its place only until its response
//! starts (the limit covers the response future, not the streamed body), so watches never block
//! writes.

use tower::limit::ConcurrencyLimitLayer;

/// A client from the inferred configuration, with at most `in_flight` requests outstanding.
pub async fn client(in_flight: usize) -> Result<kube::Client, kube::Error> {
    let config = kube::Config::infer().await.map_err(kube::Error::InferConfig)?;
    with_limit(config, in_flight)
}

/// A client for `config`, with at most `in_flight` requests outstanding.
pub fn with_limit(config: kube::Config, in_flight: usize) -> Result<kube::Client, kube::Error> {
    let builder = kube::client::ClientBuilder::try_from(config)?;
    Ok(builder.with_layer(&ConcurrencyLimitLayer::new(in_flight.max(1))).build())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Requests being answered now, the most seen at once, and connections opened.
    #[derive(Default)]
    struct Seen {
        now: AtomicUsize,
        most: AtomicUsize,
        connections: AtomicUsize,
    }

    /// A keep-alive HTTP/1.1 server answering `{}` to every request after 20 ms.
    async fn slow_server(seen: Arc<Seen>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.clear();
                        let now = seen.now.fetch_add(1, Ordering::SeqCst) + 1;
                        seen.most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        seen.now.fetch_sub(1, Ordering::SeqCst);
                        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn at_most_in_flight_requests_reach_the_server_and_as_many_connections_are_opened() {
        let seen = Arc::new(Seen::default());
        let url = slow_server(seen.clone()).await;
        let client = super::with_limit(kube::Config::new(url.parse().unwrap()), 4).unwrap();
        let calls = (0..64).map(|_| {
            let client = client.clone();
            let request = kube::core::Request::new("").get("x", &kube::api::GetParams::default()).unwrap();
            async move { client.request_text(request).await }
        });
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().all(|a| a.as_deref().ok() == Some("{}")), "{answers:?}");
        assert_eq!(seen.most.load(Ordering::SeqCst), 4, "at most 4 at once, and the limit is used");
        assert!(
            seen.connections.load(Ordering::SeqCst) <= 4,
            "{} connections",
            seen.connections.load(Ordering::SeqCst)
        );
    }
}
