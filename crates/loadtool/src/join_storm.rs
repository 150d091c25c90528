//! Owns the join-storm benchmark (issue 21): a creator is live, and N
//! viewers arrive at once (a raid). Set-up (not timed): register the
//! creator(s) and N viewers, take the room(s) live, let viewers pay when the
//! room has a price, connect each creator's socket and join as creator.
//! The storm: every viewer socket connects and sends `room:join`, C at a
//! time; each join's latency (emit to ack) and connect + join latency are
//! recorded. Then the counts must be exact: the creator saw one
//! `room:viewer_joined` per distinct viewer and a last `viewerCount` (from
//! either `room:viewer_joined` or the coalesced `room:count`) of N, and
//! `GET /api/rooms/{id}` says N. The leave: every socket disconnects; the
//! count must reach 0 and every viewer's history (`/api/users/me/history`)
//! must hold exactly one view of the room, closed. DB operations per join
//! and per leave come from `serverStatus` opcounters; CPU from /proc for
//! the processes the tool started. A wrong count, a refused join or an
//! error fails the command after the report is printed.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::report::{Progress, Report, Samples, round3};
use crate::server::{Room, ServerArgs, Services, TargetArgs, User};
use crate::sio::{self, Client};
use crate::stats::Probe;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Distinct viewers (accounts) that join.
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Joins (connect + `room:join`) in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Live rooms, one creator each; viewer i joins room i mod rooms
    /// (1: a raid into one room).
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Room price in coins; above 0 every viewer pays (stream-join) during
    /// the set-up, before the storm.
    #[arg(long, default_value_t = 0)]
    pub price: i64,
    /// Sockets (tabs) each multi-tab viewer opens; they still count once.
    #[arg(long, default_value_t = 1)]
    pub tabs_per_viewer: usize,
    /// Share of the viewers that open --tabs-per-viewer sockets.
    #[arg(long, default_value_t = 0.1)]
    pub multi_tab_share: f64,
    /// Registrations (and payments) in flight during the set-up.
    #[arg(long, default_value_t = 8)]
    pub register_concurrency: usize,
    /// Seconds the counts may take to settle after the storm, and after
    /// the leave.
    #[arg(long, default_value_t = 30.0)]
    pub settle_seconds: f64,
    /// Skip the leave phase.
    #[arg(long)]
    pub no_leave: bool,
    /// Report, but do not fail on, a creator whose last `viewerCount` is
    /// not the room's (for servers older than the join-storm work, which
    /// broadcast counts in no guaranteed order).
    #[arg(long)]
    pub lenient_creator_count: bool,
}

impl Args {
    /// CI size: checks behaviour (counts, history), not timings.
    pub fn smoke(server: &ServerArgs) -> Self {
        Self {
            server: server.clone(),
            target: TargetArgs {
                instances: 1,
                redis_server: "redis-server".into(),
                ..TargetArgs::default()
            },
            viewers: 20,
            concurrency: 4,
            rooms: 1,
            price: 0,
            // Half the viewers with two tabs: they must still count once,
            // and leave once.
            tabs_per_viewer: 2,
            multi_tab_share: 0.5,
            register_concurrency: 4,
            settle_seconds: 15.0,
            no_leave: false,
            lenient_creator_count: false,
        }
    }
}

/// What one creator's socket saw, from its room only.
struct CreatorView {
    room: String,
    joined_events: AtomicU64,
    left_events: AtomicU64,
    count_events: AtomicU64,
    /// The last `viewerCount` seen in any of them (-1: none yet).
    last_count: AtomicI64,
    joined_users: Mutex<HashSet<String>>,
    left_users: Mutex<HashSet<String>>,
}

impl CreatorView {
    fn new(room: &str) -> Self {
        Self {
            room: room.to_owned(),
            joined_events: AtomicU64::new(0),
            left_events: AtomicU64::new(0),
            count_events: AtomicU64::new(0),
            last_count: AtomicI64::new(-1),
            joined_users: Mutex::new(HashSet::new()),
            left_users: Mutex::new(HashSet::new()),
        }
    }

    /// Takes one server event: `room:viewer_joined` / `room:viewer_left`
    /// (one `user`, or a batch in `users`) and `room:count`.
    fn take(&self, name: &str, data: &Value) {
        if data["roomId"].as_str() != Some(self.room.as_str()) {
            return;
        }
        let (events, users) = match name {
            "room:viewer_joined" => (&self.joined_events, &self.joined_users),
            "room:viewer_left" => (&self.left_events, &self.left_users),
            "room:count" => {
                self.count_events.fetch_add(1, Ordering::Relaxed);
                if let Some(n) = data["viewerCount"].as_i64() {
                    self.last_count.store(n, Ordering::Relaxed);
                }
                return;
            }
            _ => return,
        };
        let ids: Vec<String> = match data["users"].as_array() {
            Some(batch) => batch
                .iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned))
                .collect(),
            None => data["user"]["id"]
                .as_str()
                .map(str::to_owned)
                .into_iter()
                .collect(),
        };
        events.fetch_add(ids.len() as u64, Ordering::Relaxed);
        lock(users).extend(ids);
        if let Some(n) = data["viewerCount"].as_i64() {
            self.last_count.store(n, Ordering::Relaxed);
        }
    }

    fn joined_distinct(&self) -> usize {
        lock(&self.joined_users).len()
    }

    fn left_distinct(&self) -> usize {
        lock(&self.left_users).len()
    }

    fn last(&self) -> i64 {
        self.last_count.load(Ordering::Relaxed)
    }

    fn to_json(&self) -> Value {
        json!({
            "joinedEvents": self.joined_events.load(Ordering::Relaxed),
            "joinedDistinct": self.joined_distinct(),
            "leftEvents": self.left_events.load(Ordering::Relaxed),
            "leftDistinct": self.left_distinct(),
            "countEvents": self.count_events.load(Ordering::Relaxed),
            "lastViewerCount": self.last(),
        })
    }
}

/// Which viewers open several tabs: `share` of them, spread evenly.
fn is_multi_tab(v: usize, share: f64) -> bool {
    let share = share.clamp(0.0, 1.0);
    (((v + 1) as f64) * share).floor() > ((v as f64) * share).floor()
}

/// The storm's sockets in order: (viewer, tab). A viewer's tabs are
/// adjacent, so they are in flight together (and, over several instances,
/// land on different ones).
fn plan(viewers: usize, tabs: usize, share: f64) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(viewers);
    for v in 0..viewers {
        let k = if tabs > 1 && is_multi_tab(v, share) {
            tabs
        } else {
            1
        };
        out.extend((0..k).map(|t| (v, t)));
    }
    out
}

/// One socket's join: timings, or what went wrong.
struct Joined {
    client: Client,
    connect_and_join: Duration,
    join: Duration,
}

/// The report, and why the run failed (a wrong count, a failed join) when
/// it did: the caller prints the report first.
pub async fn run(args: Args) -> anyhow::Result<(Report, Option<String>)> {
    if args.viewers == 0 || args.concurrency == 0 || args.rooms == 0 {
        bail!("--viewers, --concurrency and --rooms must be above 0");
    }
    if args.rooms > args.viewers {
        bail!("--rooms cannot exceed --viewers");
    }
    let progress = Progress::new("join-storm");
    let n = args.viewers;
    let settle = Duration::from_secs_f64(args.settle_seconds.max(1.0));

    // ---- Set-up (not timed).
    progress.say("starting the services");
    let coins = args.price.max(0) + 100;
    let services = Services::launch(&args.server, &args.target, coins, &[]).await?;
    let instances = services.instances.len();
    let cluster_aware = services.cluster_aware().await;
    progress.say(format!(
        "{instances} instance(s){}; registering {} creator(s) and {n} viewers",
        if services.redis_addr.is_some() {
            if cluster_aware {
                ", Redis (cluster mode)"
            } else {
                ", Redis started but the server does not report cluster mode"
            }
        } else {
            ""
        },
        args.rooms
    ));
    let creators = services
        .register_many("stormc", args.rooms, args.register_concurrency)
        .await?;
    let register_start = Instant::now();
    let viewers = services
        .register_many("stormv", n, args.register_concurrency)
        .await?;
    progress.say(format!(
        "registered {n} viewers in {:.1} s",
        register_start.elapsed().as_secs_f64()
    ));
    let mut rooms: Vec<Room> = Vec::new();
    for creator in &creators {
        rooms.push(services.create_live_room(creator, args.price).await?);
    }
    if args.price > 0 {
        progress.say(format!("{n} viewers pay {} coins each", args.price));
        let paid: Vec<anyhow::Result<()>> = futures::stream::iter(0..n)
            .map(|v| {
                let services = &services;
                let room = &rooms[v % rooms.len()];
                let viewer = &viewers[v];
                async move {
                    let (status, body) =
                        services.stream_join(viewer, room, room.price, None).await?;
                    if status != StatusCode::OK {
                        bail!("viewer {v} paying: {status} {body}");
                    }
                    Ok(())
                }
            })
            .buffer_unordered(args.register_concurrency.max(1))
            .collect()
            .await;
        paid.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    }

    // Each creator watches its room from instance 0's socket.
    let views: Vec<Arc<CreatorView>> = rooms
        .iter()
        .map(|r| Arc::new(CreatorView::new(&r.id)))
        .collect();
    let mut creator_clients = Vec::new();
    for ((creator, room), view) in creators.iter().zip(&rooms).zip(&views) {
        let view = view.clone();
        let handler: sio::Handler = Arc::new(move |e: sio::Event| view.take(&e.name, &e.data));
        let client = Client::connect(&services.socket_url, &creator.token, handler)
            .await
            .context("the creator's socket")?;
        let ack = client
            .request("room:join", &json!({ "roomId": room.id }))
            .await
            .context("the creator joining")?;
        if ack["role"] != "creator" {
            bail!("the creator joined as {}", ack["role"]);
        }
        creator_clients.push(client);
    }
    let expected: Vec<usize> = (0..rooms.len())
        .map(|r| (0..n).filter(|v| v % rooms.len() == r).count())
        .collect();

    // Events the viewers receive (every presence event, under the old
    // behaviour; counts only under the new one).
    let viewer_events = Arc::new(AtomicU64::new(0));
    let viewer_handler: sio::Handler = {
        let viewer_events = viewer_events.clone();
        Arc::new(move |_| {
            viewer_events.fetch_add(1, Ordering::Relaxed);
        })
    };

    let sockets = plan(n, args.tabs_per_viewer, args.multi_tab_share);
    let multi_tab_viewers = (0..n)
        .filter(|&v| args.tabs_per_viewer > 1 && is_multi_tab(v, args.multi_tab_share))
        .count();
    let mut probe = Probe::new(
        services.mongodb_uri.as_deref(),
        services.redis_addr.as_deref(),
    )
    .await;
    // The database's background rate (change streams, leases) over 1 s.
    probe.start().await;
    let idle_start = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = probe.finish(0).await;
    let idle_secs = idle_start.elapsed().as_secs_f64();

    // ---- The storm.
    progress.say(format!(
        "storm: {} sockets ({n} viewers, {multi_tab_viewers} with {} tabs) into {} room(s) over {instances} instance(s), {} at once",
        sockets.len(),
        args.tabs_per_viewer,
        rooms.len(),
        args.concurrency
    ));
    probe.start().await;
    let cpu_before = services.cpu_snapshot();
    let done = AtomicU64::new(0);
    let storm_start = Instant::now();
    let outcomes: Vec<anyhow::Result<Joined>> = futures::stream::iter(sockets.iter().enumerate())
        .map(|(i, &(v, _tab))| {
            let url = services.socket_url_for(i).to_owned();
            let token = viewers[v].token.clone();
            let room = rooms[v % rooms.len()].id.clone();
            let handler = viewer_handler.clone();
            let done = &done;
            let progress = &progress;
            async move {
                let t0 = Instant::now();
                let client = Client::connect(&url, &token, handler)
                    .await
                    .with_context(|| format!("socket {i} (viewer {v}) connecting"))?;
                let t1 = Instant::now();
                let ack = client
                    .emit_ack("room:join", &json!({ "roomId": room }))
                    .await
                    .with_context(|| format!("socket {i} (viewer {v}) joining"))?;
                let t2 = Instant::now();
                if ack["ok"] != Value::Bool(true) || ack["role"] != "viewer" {
                    bail!("socket {i} (viewer {v}): room:join answered {ack}");
                }
                let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                if k.is_multiple_of(1000) {
                    progress.say(format!("{k} joined"));
                }
                Ok(Joined {
                    client,
                    connect_and_join: t2 - t0,
                    join: t2 - t1,
                })
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let storm_secs = storm_start.elapsed().as_secs_f64();
    let storm_cpu = services.cpu_snapshot().since(&cpu_before, storm_secs);

    let mut join_ms = Samples::with_capacity(sockets.len());
    let mut connect_join_ms = Samples::with_capacity(sockets.len());
    let mut clients = Vec::with_capacity(sockets.len());
    let mut errors: Vec<String> = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(j) => {
                join_ms.push_duration_ms(j.join);
                connect_join_ms.push_duration_ms(j.connect_and_join);
                clients.push(j.client);
            }
            Err(err) => errors.push(format!("{err:#}")),
        }
    }
    let joined = clients.len();
    progress.say(format!(
        "storm: {joined}/{} joined in {storm_secs:.2} s ({:.0} joins/s); join p50 {:.1} ms p99 {:.1} ms",
        sockets.len(),
        joined as f64 / storm_secs.max(1e-9),
        join_ms.percentile(50.0),
        join_ms.percentile(99.0)
    ));

    // Counts settle: the creator's view and the room's.
    let (creator_settled_ms, api_settled_ms, api_counts) =
        settle_counts(&services, &creators, &rooms, &expected, settle, || {
            views.iter().zip(&expected).all(|(view, &e)| {
                view.joined_distinct() >= e
                    && (args.lenient_creator_count || view.last() == e as i64)
            })
        })
        .await?;
    let storm_ops = probe.finish(joined as u64).await;
    let after_storm: Vec<Value> = views.iter().map(|v| v.to_json()).collect();
    let api_exact = api_counts
        .iter()
        .zip(&expected)
        .all(|(&c, &e)| c == e as i64);
    let creator_events_exact = views.iter().zip(&expected).all(|(view, &e)| {
        view.joined_distinct() == e && view.joined_events.load(Ordering::Relaxed) == e as u64
    });
    let creator_count_exact = views
        .iter()
        .zip(&expected)
        .all(|(view, &e)| view.last() == e as i64);
    let joins_exact =
        api_exact && creator_events_exact && (creator_count_exact || args.lenient_creator_count);
    let viewer_events_storm = viewer_events.load(Ordering::Relaxed);
    progress.say(format!(
        "after the storm: creator saw {:?}, API says {api_counts:?}, expected {expected:?}: exact {}",
        views
            .iter()
            .map(|v| (v.joined_distinct(), v.last()))
            .collect::<Vec<_>>(),
        yes_no(joins_exact)
    ));

    // ---- The leave.
    let mut leave = Value::Null;
    let mut leaves_exact = true;
    if !args.no_leave {
        progress.say(format!("leave: {joined} sockets disconnect"));
        probe.start().await;
        let cpu_before = services.cpu_snapshot();
        let leave_start = Instant::now();
        for client in &clients {
            client.close();
        }
        drop(clients);
        let zeros = vec![0; rooms.len()];
        let (creator_ms, api_ms, api_after) =
            settle_counts(&services, &creators, &rooms, &zeros, settle, || {
                views.iter().zip(&expected).all(|(view, &e)| {
                    view.left_distinct() >= e && (args.lenient_creator_count || view.last() == 0)
                })
            })
            .await?;
        let creator_zero = creator_ms.is_some()
            && (args.lenient_creator_count || views.iter().all(|v| v.last() == 0));
        let leave_secs = api_ms.map_or(leave_start.elapsed().as_secs_f64(), |ms| ms / 1e3);
        let leave_cpu = services
            .cpu_snapshot()
            .since(&cpu_before, leave_start.elapsed().as_secs_f64());
        let leave_ops = probe.finish(n as u64).await;
        let api_zero = api_after.iter().all(|&c| c == 0);
        let left_events_exact = views.iter().zip(&expected).all(|(view, &e)| {
            view.left_distinct() == e && view.left_events.load(Ordering::Relaxed) == e as u64
        });
        leaves_exact = creator_zero && api_zero && left_events_exact;
        progress.say(format!(
            "after the leave: API says {api_after:?} in {leave_secs:.2} s; creator saw {:?}: exact {}",
            views
                .iter()
                .map(|v| (v.left_distinct(), v.last()))
                .collect::<Vec<_>>(),
            yes_no(leaves_exact)
        ));
        leave = json!({
            "apiZeroMs": api_ms,
            "creatorSawZeroMs": creator_ms,
            "apiViewerCounts": api_after,
            "creatorViews": views.iter().map(|v| v.to_json()).collect::<Vec<_>>(),
            "cpu": leave_cpu,
            "perLeave": leave_ops,
            "apiCountExact": api_zero,
            "creatorEventsExact": left_events_exact,
            "creatorLastCountExact": views.iter().all(|v| v.last() == 0),
            "exact": leaves_exact,
        });
    }

    // ---- View history: one view of the room per viewer, closed after
    // the leave (open while still watching).
    progress.say("checking every viewer's view history");
    let history = check_history(&services, &viewers, &rooms, !args.no_leave, settle).await?;
    let history_ok = history["ok"] == Value::Bool(true);

    drop(creator_clients);
    let exact = joins_exact && leaves_exact && history_ok;
    let joins_per_sec = joined as f64 / storm_secs.max(1e-9);
    let storm_ops_per_join = storm_ops["dbOps"]["perUnit"].clone();
    let mut summary = vec![format!(
        "{n} viewers ({} sockets, {multi_tab_viewers} viewers with {} tabs) into {} room(s) over {instances} instance(s), {} at once{}",
        sockets.len(),
        args.tabs_per_viewer,
        rooms.len(),
        args.concurrency,
        if args.price > 0 {
            format!(", paid rooms ({} coins)", args.price)
        } else {
            String::new()
        }
    )];
    summary.push(format!(
        "storm: {joined} joined in {storm_secs:.2} s = {joins_per_sec:.0} joins/s; join p50 {:.1} / p95 {:.1} / p99 {:.1} / max {:.1} ms; connect+join p50 {:.1} / p99 {:.1} ms; {} errors",
        join_ms.percentile(50.0),
        join_ms.percentile(95.0),
        join_ms.percentile(99.0),
        join_ms.percentile(100.0),
        connect_join_ms.percentile(50.0),
        connect_join_ms.percentile(99.0),
        errors.len()
    ));
    summary.push(format!(
        "DB ops per join: {}; server CPU {} s ({} s/s), DB CPU {} s ({} s/s); events to viewers {}",
        storm_ops_per_join,
        storm_cpu["serverCpuSeconds"],
        storm_cpu["serverCpuSecondsPerSecond"],
        storm_cpu["dbCpuSeconds"],
        storm_cpu["dbCpuSecondsPerSecond"],
        viewer_events_storm
    ));
    summary.push(format!(
        "creator's last viewerCount: {:?} after the storm (expected {expected:?}), {} after the leave{}",
        after_storm
            .iter()
            .map(|v| v["lastViewerCount"].clone())
            .collect::<Vec<_>>(),
        if args.no_leave {
            "-".to_owned()
        } else {
            format!("{:?}", views.iter().map(|v| v.last()).collect::<Vec<_>>())
        },
        if args.lenient_creator_count {
            " (not required: --lenient-creator-count)"
        } else {
            ""
        }
    ));
    summary.push(format!(
        "exact: {} (joins {}, leaves {}, history {})",
        yes_no(exact),
        yes_no(joins_exact),
        if args.no_leave {
            "skipped"
        } else {
            yes_no(leaves_exact)
        },
        yes_no(history_ok)
    ));
    let report = Report {
        benchmark: "join-storm",
        params: json!({
            "viewers": n,
            "sockets": sockets.len(),
            "concurrency": args.concurrency,
            "rooms": rooms.len(),
            "price": args.price,
            "tabsPerViewer": args.tabs_per_viewer,
            "multiTabViewers": multi_tab_viewers,
            "target": args.target.to_json(),
            "clusterAware": cluster_aware,
            "lenientCreatorCount": args.lenient_creator_count,
            "openFilesLimit": crate::server::nofile_limit(),
            "server": args.server.to_json(),
        }),
        results: json!({
            "storm": {
                "seconds": round3(storm_secs),
                "joined": joined,
                "errors": errors.len(),
                "firstErrors": errors.iter().take(5).collect::<Vec<_>>(),
                "joinsPerSecond": round3(joins_per_sec),
                "joinMs": percentiles(&join_ms),
                "connectAndJoinMs": percentiles(&connect_join_ms),
                "cpu": storm_cpu,
                "perJoin": storm_ops,
                "eventsToViewers": viewer_events_storm,
            },
            "idleBaseline": { "seconds": round3(idle_secs), "counters": idle },
            "afterStorm": {
                "creatorViews": after_storm,
                "creatorSettledMs": creator_settled_ms,
                "apiViewerCounts": api_counts,
                "apiSettledMs": api_settled_ms,
                "expected": expected,
                "apiCountExact": api_exact,
                "creatorEventsExact": creator_events_exact,
                "creatorLastCountExact": creator_count_exact,
                "exact": joins_exact,
            },
            "leave": leave,
            "history": history,
            "exact": exact,
        }),
        summary,
    };
    let failure = (!exact || !errors.is_empty())
        .then(|| "join-storm: counts not exact or joins failed (see the report)".to_owned());
    Ok((report, failure))
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `{count, p50, p95, p99, max, mean}`.
fn percentiles(s: &Samples) -> Value {
    let mut v = s.to_json();
    if !s.is_empty() {
        v["p95"] = json!(round3(s.percentile(95.0)));
    }
    v
}

/// Waits (from now, at most `limit`) until the creator's view holds
/// (`creator_done`) and every room's `viewerCount`, read as its creator,
/// equals `expected`. Returns when each became true (ms from now; None:
/// not within `limit`) and the last counts read.
async fn settle_counts(
    services: &Services,
    creators: &[User],
    rooms: &[Room],
    expected: &[usize],
    limit: Duration,
    creator_done: impl Fn() -> bool,
) -> anyhow::Result<(Option<f64>, Option<f64>, Vec<i64>)> {
    let start = Instant::now();
    let ms = |start: Instant| round3(start.elapsed().as_secs_f64() * 1e3);
    let mut creator_at = None;
    let mut api_at = None;
    let mut counts = Vec::new();
    loop {
        if creator_at.is_none() && creator_done() {
            creator_at = Some(ms(start));
        }
        if api_at.is_none() {
            counts = room_counts(services, creators, rooms).await?;
            if counts.iter().zip(expected).all(|(&c, &e)| c == e as i64) {
                api_at = Some(ms(start));
            }
        }
        if (creator_at.is_some() && api_at.is_some()) || start.elapsed() > limit {
            return Ok((creator_at, api_at, counts));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each room's `viewerCount` (`GET /api/rooms/{id}` as its creator).
async fn room_counts(
    services: &Services,
    creators: &[User],
    rooms: &[Room],
) -> anyhow::Result<Vec<i64>> {
    let mut counts = Vec::with_capacity(rooms.len());
    for (creator, room) in creators.iter().zip(rooms) {
        let (status, body) = services
            .call(
                services
                    .http
                    .get(services.url(&format!("/api/rooms/{}", room.id)))
                    .bearer_auth(&creator.token),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("GET room {}: {status} {body}", room.id);
        }
        counts.push(body["viewerCount"].as_i64().unwrap_or(-1));
    }
    Ok(counts)
}

/// Every viewer's history must hold exactly one view of their room, closed
/// (`leftAt` set) when `closed`, open otherwise. Views written in batches
/// may lag: viewers that do not match yet are read again until `limit`.
async fn check_history(
    services: &Services,
    viewers: &[User],
    rooms: &[Room],
    closed: bool,
    limit: Duration,
) -> anyhow::Result<Value> {
    let start = Instant::now();
    let mut pending: Vec<usize> = (0..viewers.len()).collect();
    let mut problems: Vec<String>;
    loop {
        // Unordered: each answer names its viewer.
        let results: Vec<anyhow::Result<(usize, Option<String>)>> =
            futures::stream::iter(pending.clone())
                .map(|v| {
                    let viewer = &viewers[v];
                    let room = &rooms[v % rooms.len()];
                    async move {
                        let url =
                            format!("{}/api/users/me/history?limit=100", services.base_for(v));
                        let (status, body) = services
                            .call(services.http.get(url).bearer_auth(&viewer.token))
                            .await?;
                        if status != StatusCode::OK {
                            bail!("history of viewer {v}: {status} {body}");
                        }
                        let views: Vec<&Value> = body["items"]
                            .as_array()
                            .map(|items| {
                                items
                                    .iter()
                                    .filter(|e| e["roomId"].as_str() == Some(room.id.as_str()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let open = views.iter().filter(|e| e["leftAt"].is_null()).count();
                        let fine = views.len() == 1 && (open == 0) == closed;
                        Ok((
                            v,
                            (!fine).then(|| {
                                format!(
                                    "viewer {v}: {} views of the room, {open} open",
                                    views.len()
                                )
                            }),
                        ))
                    }
                })
                .buffer_unordered(32)
                .collect()
                .await;
        let mut still = Vec::new();
        problems = Vec::new();
        for r in results {
            if let (v, Some(problem)) = r? {
                still.push(v);
                problems.push(problem);
            }
        }
        still.sort_unstable();
        pending = still;
        if pending.is_empty() || start.elapsed() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(json!({
        "viewersChecked": viewers.len(),
        "expect": if closed { "one closed view each" } else { "one open view each" },
        "mismatched": problems.len(),
        "firstMismatches": problems.iter().take(5).collect::<Vec<_>>(),
        "ok": problems.is_empty(),
    }))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_are_spread_and_adjacent() {
        let p = plan(10, 3, 0.2);
        // 2 of 10 viewers with 3 tabs: 8 + 6 sockets.
        assert_eq!(p.len(), 14);
        let multi: Vec<usize> = (0..10).filter(|&v| is_multi_tab(v, 0.2)).collect();
        assert_eq!(multi, vec![4, 9]);
        let i = p.iter().position(|&(v, _)| v == 4).unwrap();
        assert_eq!(&p[i..i + 3], &[(4, 0), (4, 1), (4, 2)]);
        assert_eq!(plan(5, 1, 0.5).len(), 5);
        assert_eq!(plan(4, 2, 1.0).len(), 8);
    }

    #[test]
    fn the_creator_view_takes_old_and_new_events() {
        let view = CreatorView::new("r1");
        let joined = |id: &str, count: i64| json!({"roomId": "r1", "user": {"id": id, "username": id}, "viewerCount": count});
        // Old behaviour: viewer_joined with the count.
        view.take("room:viewer_joined", &joined("a", 1));
        view.take("room:viewer_joined", &joined("b", 2));
        // Another room's event is not ours.
        view.take(
            "room:viewer_joined",
            &json!({"roomId": "r2", "user": {"id": "c"}, "viewerCount": 9}),
        );
        assert_eq!(view.joined_distinct(), 2);
        assert_eq!(view.last(), 2);
        // New behaviour: coalesced counts, and a batch of joins.
        view.take("room:count", &json!({"roomId": "r1", "viewerCount": 4}));
        view.take(
            "room:viewer_joined",
            &json!({"roomId": "r1", "users": [{"id": "c"}, {"id": "d"}]}),
        );
        assert_eq!(view.joined_distinct(), 4);
        assert_eq!(view.joined_events.load(Ordering::Relaxed), 4);
        assert_eq!(view.last(), 4);
        view.take(
            "room:viewer_left",
            &json!({"roomId": "r1", "user": {"id": "a"}, "viewerCount": 3}),
        );
        assert_eq!(view.left_distinct(), 1);
        assert_eq!(view.last(), 3);
        assert_eq!(view.to_json()["countEvents"], 1);
    }
}
