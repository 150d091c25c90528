//! The HTTP listener, written on hyper directly (as axum's own
//! `serve-with-hyper` example does) for the limits `axum::serve` cannot
//! set: a deadline for each request's headers, which also closes idle
//! keep-alive connections (slow-header attacks hold nothing for long), and
//! a cap on the connections one client address holds open, WebSockets
//! included. HTTP/1.1 only (with upgrades): a TLS proxy in front speaks
//! HTTP/2 to browsers.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// What a connection may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to send a request's headers, and to start the next request on
    /// a kept-alive connection.
    pub header_timeout: Duration,
    /// Open connections per client address; 0 for no limit.
    pub per_address: usize,
    /// Addresses not limited (trusted proxies carry many clients).
    pub exempt: Vec<IpNet>,
}

/// Serves `app` until `shutdown` completes, then stops accepting and waits
/// for open requests to finish (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = OpenConnections::default();
    // Each connection's task holds a receiver: the stop is a send, and
    // every connection gone is `closed()`.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, most likely: let some close.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = open.take(peer.ip(), &limits) else {
            tracing::debug!(%peer, "too many connections from this address; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = tower::service_fn(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let connection = http
            .serve_connection(io, TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopping.changed() => {
                    // Finish the request in flight, take no new one.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = ended {
                tracing::debug!(error = %err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    stop.closed().await;
    Ok(())
}

/// Open connections per address.
#[derive(Clone, Default)]
struct OpenConnections(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl OpenConnections {
    /// A slot for one more connection from `ip`, or `None` at the cap.
    fn take(&self, ip: IpAddr, limits: &Limits) -> Option<Slot> {
        let ip = ip.to_canonical();
        if limits.per_address == 0 || limits.exempt.iter().any(|net| net.contains(&ip)) {
            return Some(Slot(None));
        }
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= limits.per_address {
            return None;
        }
        *count += 1;
        Some(Slot(Some((self.clone(), ip))))
    }
}

/// One counted connection; freed when the connection (or the WebSocket it
/// became) closes.
struct Slot(Option<(OpenConnections, IpAddr)>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((open, ip)) = self.0.take() {
            let mut map = open.0.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(count) = map.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    map.remove(&ip);
                }
            }
        }
    }
}

/// A TCP stream that holds its slot: an upgraded connection (WebSocket)
/// keeps the stream, so it keeps counting until it closes.
struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
