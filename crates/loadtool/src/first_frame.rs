//! Owns the time-to-first-frame benchmark: one publisher of generated media
//! (a str0m test peer over WHIP: VP8-like video, a keyframe every 2 s or on
//! request) on a live room; then, one after another, a paid viewer already
//! in the room over Socket.IO emits `media:view`, answers the SFU's offer
//! with a test peer and sends `media:answer`; the time from `media:view` to
//! the peer's first complete keyframe is one sample. Each viewer's
//! connection closes (which closes its media) before the next join.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use streamshare_sfu::testing::TestPeer;

use crate::report::{Progress, Report, Samples, round3};
use crate::server::{ServerArgs, Services};
use crate::sio::{self, Client};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Joins measured, one after another.
    #[arg(long, default_value_t = 100)]
    pub joins: usize,
    /// Seconds a join may take before it counts as failed.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Pause between joins, in milliseconds. The SFU sends at most one
    /// keyframe request per publisher track per 500 ms (a later one waits
    /// for the window's end), so joins closer together than that measure
    /// the throttle; the default spaces them past it.
    #[arg(long, default_value_t = 600)]
    pub pause_ms: u64,
}

impl Args {
    pub fn smoke(server: &ServerArgs) -> Self {
        Self {
            server: server.clone(),
            joins: 3,
            timeout: 10.0,
            pause_ms: 50,
        }
    }
}

/// The moments of one join, from emitting `media:view`.
struct Join {
    offer: Duration,
    answered: Duration,
    connected: Duration,
    keyframe: Duration,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    if args.joins == 0 {
        bail!("--joins must be above 0");
    }
    let progress = Progress::new("first-frame");
    progress.say("starting the database and the server");
    let services = Services::start(&args.server, 100, &[]).await?;
    let creator = services.register("ffc").await?;
    let viewer = services.register("ffv").await?;
    let room = services.create_live_room(&creator, 1).await?;

    progress.say("publishing generated media over WHIP");
    let (pending, offer) = TestPeer::publisher_offer().map_err(|e| anyhow!("{e}"))?;
    let answer = services.whip(&creator, &room.id, offer).await?;
    let publisher = pending.complete(&answer).map_err(|e| anyhow!("{e}"))?;
    let (ok, counts) = publisher
        .wait_for(Duration::from_secs(10), |c| c.connected && c.video_sent > 0)
        .await;
    if !ok {
        bail!("the publisher did not connect and send: {counts:?}");
    }
    let (status, body) = services
        .stream_join(&viewer, &room, room.price, None)
        .await?;
    if status != reqwest::StatusCode::OK {
        bail!("the viewer could not pay: {status} {body}");
    }
    // Let the SFU see the publisher's first keyframe.
    tokio::time::sleep(Duration::from_millis(500)).await;

    progress.say(format!("{} joins, one after another", args.joins));
    let timeout = Duration::from_secs_f64(args.timeout);
    let mut offer_ms = Samples::with_capacity(args.joins);
    let mut answered_ms = Samples::with_capacity(args.joins);
    let mut connected_ms = Samples::with_capacity(args.joins);
    let mut keyframe_ms = Samples::with_capacity(args.joins);
    let mut failures = Vec::new();
    for n in 0..args.joins {
        let client = Client::connect(&services.socket_url, &viewer.token, sio::ignore())
            .await
            .context("viewer connect")?;
        client
            .request("room:join", &json!({ "roomId": room.id }))
            .await
            .context("viewer room:join")?;
        match one_join(&client, &room.id, timeout).await {
            Ok(join) => {
                offer_ms.push_duration_ms(join.offer);
                answered_ms.push_duration_ms(join.answered);
                connected_ms.push_duration_ms(join.connected);
                keyframe_ms.push_duration_ms(join.keyframe);
            }
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "a join failed");
                failures.push(format!("join {n}: {err:#}"));
            }
        }
        client.close();
        drop(client);
        if (n + 1) % 10 == 0 || n + 1 == args.joins {
            progress.say(format!(
                "{}/{} joins; first keyframe p50 {:.1} ms",
                n + 1,
                args.joins,
                keyframe_ms.percentile(50.0)
            ));
        }
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }
    let publisher_counts = publisher.counts();
    publisher.close().await;
    if keyframe_ms.is_empty() {
        bail!("no join saw a keyframe: {}", failures.join("; "));
    }

    let summary = vec![
        format!(
            "{} joins ({} measured, {} failed): media:view → first keyframe p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            args.joins,
            keyframe_ms.len(),
            failures.len(),
            keyframe_ms.percentile(50.0),
            keyframe_ms.percentile(99.0),
            keyframe_ms.percentile(100.0)
        ),
        format!(
            "breakdown p50: offer {:.1} ms, answer acknowledged {:.1} ms, connected {:.1} ms",
            offer_ms.percentile(50.0),
            answered_ms.percentile(50.0),
            connected_ms.percentile(50.0)
        ),
    ];
    Ok(Report {
        benchmark: "first-frame",
        params: json!({
            "joins": args.joins,
            "timeoutSeconds": args.timeout,
            "pauseMs": args.pause_ms,
            "server": args.server.to_json(),
        }),
        results: json!({
            "firstKeyframeMs": keyframe_ms.to_json(),
            "offerMs": offer_ms.to_json(),
            "answerAckMs": answered_ms.to_json(),
            "connectedMs": connected_ms.to_json(),
            "failures": failures.len(),
            "failureSamples": failures.iter().take(5).collect::<Vec<_>>(),
            "publisher": {
                "videoFramesSent": publisher_counts.video_sent,
                "keyframeRequests": publisher_counts.keyframe_requests,
            },
            "goalP50Ms": 100,
            "p50MetGoal": keyframe_ms.percentile(50.0) < 100.0,
            "p50Ms": round3(keyframe_ms.percentile(50.0)),
        }),
        summary,
    })
}

/// One measured join: `media:view`, the answer, then polling (every
/// millisecond) for the connection and the first keyframe.
async fn one_join(client: &Client, room: &str, timeout: Duration) -> anyhow::Result<Join> {
    let start = Instant::now();
    let view = client
        .request("media:view", &json!({ "roomId": room }))
        .await?;
    let offer_at = start.elapsed();
    let offer = view["sdp"]
        .as_str()
        .ok_or_else(|| anyhow!("media:view answered without an sdp: {view}"))?;
    let (peer, answer) = TestPeer::answer(offer).map_err(|e| anyhow!("answering: {e}"))?;
    let ack: Value = client
        .request("media:answer", &json!({ "roomId": room, "sdp": answer }))
        .await?;
    drop(ack);
    let answered_at = start.elapsed();
    let mut connected_at = None;
    let result = loop {
        let counts = peer.counts();
        if connected_at.is_none() && counts.connected {
            connected_at = Some(start.elapsed());
        }
        if counts.video_keyframes >= 1 {
            break Ok(start.elapsed());
        }
        if counts.closed {
            break Err(anyhow!("the media session closed: {counts:?}"));
        }
        if start.elapsed() > timeout {
            break Err(anyhow!("no keyframe within {timeout:?}: {counts:?}"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    peer.close().await;
    let keyframe = result?;
    Ok(Join {
        offer: offer_at,
        answered: answered_at,
        connected: connected_at.unwrap_or(keyframe),
        keyframe,
    })
}
