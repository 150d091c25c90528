//! Owns a minimal Socket.IO v4 client (Engine.IO 4, WebSocket transport
//! only, default namespace, text packets only): connect with
//! `auth: {token}`, emit events with acknowledgements, answer pings, and
//! hand every server event to a handler with the instant its frame arrived.
//! One tokio task per connection owns the socket.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A server event: its name, its first argument, and when it arrived.
pub struct Event {
    pub name: String,
    pub data: Value,
    pub at: Instant,
}

/// Called (in the connection's task) for each server event.
pub type Handler = Arc<dyn Fn(Event) + Send + Sync>;

/// A handler that ignores every event.
pub fn ignore() -> Handler {
    Arc::new(|_| {})
}

enum Command {
    Emit {
        text: String,
        ack: Option<(u64, oneshot::Sender<Value>)>,
    },
    Close,
}

/// A connected Socket.IO client. Dropping it closes the connection.
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    next_ack: std::sync::atomic::AtomicU64,
}

/// How long connecting and an acknowledgement may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// Connects to `url` (`ws://host/socket.io/?EIO=4&transport=websocket`)
    /// with `auth: {token}`; fails if the server refuses the connection.
    pub async fn connect(url: &str, token: &str, handler: Handler) -> anyhow::Result<Self> {
        tokio::time::timeout(TIMEOUT, Self::connect_inner(url, token, handler))
            .await
            .map_err(|_| anyhow!("Socket.IO connect timed out"))?
    }

    async fn connect_inner(url: &str, token: &str, handler: Handler) -> anyhow::Result<Self> {
        // Small buffers (thousands of connections; packets are small) and
        // no Nagle delay on what the client sends.
        let config = WebSocketConfig::default()
            .read_buffer_size(8 * 1024)
            .write_buffer_size(0);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .with_context(|| format!("WebSocket connect to {url}"))?;
        // Engine.IO open: `0{"sid":…,"pingInterval":…}`.
        let open = next_text(&mut ws).await?;
        if !open.starts_with('0') {
            bail!("expected the Engine.IO open packet, got {open:?}");
        }
        let auth = json!({ "token": token });
        ws.send(Message::text(format!("40{auth}")))
            .await
            .context("sending the Socket.IO connect")?;
        loop {
            let packet = next_text(&mut ws).await?;
            if packet == "2" {
                ws.send(Message::text("3")).await.context("pong")?;
            } else if packet.starts_with("40") {
                break;
            } else if let Some(refusal) = packet.strip_prefix("44") {
                bail!("the server refused the connection: {refusal}");
            } else {
                bail!("unexpected packet while connecting: {packet:?}");
            }
        }
        let (commands, rx) = mpsc::unbounded_channel();
        tokio::spawn(drive(ws, rx, handler));
        Ok(Self {
            commands,
            next_ack: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Emits `event` and waits for its acknowledgement's first argument.
    pub async fn emit_ack(&self, event: &str, data: &Value) -> anyhow::Result<Value> {
        let id = self
            .next_ack
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let text = format!("42{id}{}", json!([event, data]));
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Emit {
                text,
                ack: Some((id, tx)),
            })
            .map_err(|_| anyhow!("the connection is closed"))?;
        match tokio::time::timeout(TIMEOUT, rx).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => bail!("the connection closed before {event} was acknowledged"),
            Err(_) => bail!("{event} was not acknowledged within {TIMEOUT:?}"),
        }
    }

    /// Emits `event`, expects `{ok: true, ...}` and returns it.
    pub async fn request(&self, event: &str, data: &Value) -> anyhow::Result<Value> {
        let answer = self.emit_ack(event, data).await?;
        if answer["ok"] != Value::Bool(true) {
            bail!("{event} refused: {answer}");
        }
        Ok(answer)
    }

    /// Disconnects politely (Socket.IO disconnect, WebSocket close).
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> anyhow::Result<String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => bail!("the server closed the connection: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(err)) => return Err(err).context("reading the WebSocket"),
            None => bail!("the connection ended"),
        }
    }
}

/// The connection's task: writes what the client emits, answers pings,
/// routes acknowledgements and events.
async fn drive(mut ws: Ws, mut commands: mpsc::UnboundedReceiver<Command>, handler: Handler) {
    let mut pending: HashMap<u64, oneshot::Sender<Value>> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Emit { text, ack }) => {
                    if let Some((id, tx)) = ack {
                        pending.insert(id, tx);
                    }
                    if ws.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Command::Close) | None => {
                    let _ = ws.send(Message::text("41")).await;
                    let _ = ws.close(None).await;
                    break;
                }
            },
            frame = ws.next() => {
                let at = Instant::now();
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                match parse(text.as_str()) {
                    Packet::Ping => {
                        if ws.send(Message::text("3")).await.is_err() {
                            break;
                        }
                    }
                    Packet::Event { name, data } => handler(Event { name, data, at }),
                    Packet::Ack { id, data } => {
                        if let Some(tx) = pending.remove(&id) {
                            let _ = tx.send(data);
                        }
                    }
                    Packet::Disconnect => break,
                    Packet::Other => {}
                }
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Packet {
    Ping,
    Event { name: String, data: Value },
    Ack { id: u64, data: Value },
    Disconnect,
    Other,
}

/// Parses an Engine.IO text packet carrying (for type 4) a Socket.IO
/// packet of the default namespace.
fn parse(text: &str) -> Packet {
    let Some(rest) = text.strip_prefix('4') else {
        return match text {
            "2" => Packet::Ping,
            "1" => Packet::Disconnect,
            _ => Packet::Other,
        };
    };
    let mut chars = rest.chars();
    let kind = chars.next();
    let body = chars.as_str();
    // Optional ack id, then the JSON array.
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let (id, json) = body.split_at(digits);
    match kind {
        Some('1') => Packet::Disconnect,
        Some('2') => {
            let Ok(Value::Array(mut items)) = serde_json::from_str::<Value>(json) else {
                return Packet::Other;
            };
            if items.is_empty() {
                return Packet::Other;
            }
            let name = match items.remove(0) {
                Value::String(name) => name,
                _ => return Packet::Other,
            };
            let data = if items.is_empty() {
                Value::Null
            } else {
                items.swap_remove(0)
            };
            Packet::Event { name, data }
        }
        Some('3') => {
            let Ok(id) = id.parse::<u64>() else {
                return Packet::Other;
            };
            let data = match serde_json::from_str::<Value>(json) {
                Ok(Value::Array(mut items)) if !items.is_empty() => items.swap_remove(0),
                _ => Value::Null,
            };
            Packet::Ack { id, data }
        }
        _ => Packet::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_parse() {
        assert_eq!(parse("2"), Packet::Ping);
        assert_eq!(
            parse(r#"42["chat:message",{"text":"hi"}]"#),
            Packet::Event {
                name: "chat:message".into(),
                data: json!({"text": "hi"})
            }
        );
        assert_eq!(
            parse(r#"4317[{"ok":true}]"#),
            Packet::Ack {
                id: 17,
                data: json!({"ok": true})
            }
        );
        assert_eq!(parse("41"), Packet::Disconnect);
        assert_eq!(parse("42not json"), Packet::Other);
        assert_eq!(parse("42[]"), Packet::Other);
        assert_eq!(parse("43x[]"), Packet::Other);
        assert_eq!(parse(""), Packet::Other);
    }

    /// A scripted Engine.IO server: open, check the auth, accept (or
    /// refuse), ping, answer an emit's ack and push an event.
    async fn fake_server(refuse: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            ws.send(Message::text(r#"0{"sid":"x","pingInterval":25000}"#))
                .await
                .unwrap();
            let connect = next_text(&mut ws).await.unwrap();
            assert_eq!(connect, r#"40{"token":"tok"}"#);
            if refuse {
                ws.send(Message::text(r#"44{"message":"unauthorized: no"}"#))
                    .await
                    .unwrap();
                return;
            }
            ws.send(Message::text(r#"40{"sid":"y"}"#)).await.unwrap();
            ws.send(Message::text("2")).await.unwrap();
            // The pong and the emit, in either order.
            let mut got = vec![
                next_text(&mut ws).await.unwrap(),
                next_text(&mut ws).await.unwrap(),
            ];
            got.sort();
            assert_eq!(got, ["3", r#"420["room:join",{"roomId":"r"}]"#]);
            ws.send(Message::text(r#"42["chat:message",{"text":"t=5 s=0"}]"#))
                .await
                .unwrap();
            ws.send(Message::text(r#"430[{"ok":true,"role":"viewer"}]"#))
                .await
                .unwrap();
            assert_eq!(next_text(&mut ws).await.unwrap(), "41");
        });
        format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
    }

    #[tokio::test]
    async fn talks_to_an_engine_io_server() {
        let url = fake_server(false).await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let handler: Handler = Arc::new(move |e: Event| {
            let _ = tx.send((e.name, e.data));
        });
        let client = Client::connect(&url, "tok", handler).await.unwrap();
        let ack = client
            .request("room:join", &json!({"roomId": "r"}))
            .await
            .unwrap();
        assert_eq!(ack["role"], "viewer");
        let (name, data) = rx.recv().await.unwrap();
        assert_eq!(name, "chat:message");
        assert_eq!(data["text"], "t=5 s=0");
        client.close();
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error() {
        let url = fake_server(true).await;
        let err = Client::connect(&url, "tok", ignore())
            .await
            .err()
            .expect("refused");
        assert!(format!("{err:#}").contains("unauthorized"), "{err:#}");
    }
}
