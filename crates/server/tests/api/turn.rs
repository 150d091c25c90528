//! Media through the project's coturn: a viewer restricted to a relay
//! candidate watches, with the TURN credentials the API hands out.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use streamshare_sfu::testing::{TestPeer, TurnConfig};

use crate::helpers::{free_port, shared_db_uri, spawn_app_with, unique};
use crate::media_plane::{publish, receives_media, view};
use crate::socket::Sio;

const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/turnserver-test.conf"
);

/// A `turnserver` (Debian's coturn) on loopback, stopped when dropped.
struct Coturn {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Coturn {
    fn start(secret: &str) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(unique("streamshare-turn-"));
        std::fs::create_dir_all(&dir).unwrap();
        let relay_min = 40_000 + (port % 2_000) * 10;
        let child = Command::new("turnserver")
            .args(["-c", CONFIG, "--listening-port", &port.to_string()])
            .args(["--static-auth-secret", secret])
            .args([
                "--min-port",
                &relay_min.to_string(),
                "--max-port",
                &(relay_min + 9).to_string(),
            ])
            .arg("--pidfile")
            .arg(dir.join("turn.pid"))
            .arg("--log-file")
            .arg(dir.join("turn.log"))
            .arg("--userdb")
            .arg(dir.join("turndb"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver runs (scripts/test.sh installs coturn)");
        let coturn = Self { child, port, dir };
        coturn.wait_ready();
        coturn
    }

    fn log(&self) -> String {
        std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.file_name().to_string_lossy().contains("turn")
                    && e.file_name().to_string_lossy().ends_with(".log")
            })
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while !self.log().contains("Total General servers") {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "coturn did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_viewer_limited_to_relay_candidates_watches_through_coturn() {
    let secret = "turn-test-secret";
    let coturn = Coturn::start(secret);
    let turn_url = format!("turn:127.0.0.1:{}?transport=udp", coturn.port);
    let url = turn_url.clone();
    let app = spawn_app_with(&shared_db_uri(), move |s| {
        s.turn_urls = vec![url];
        s.turn_secret = Some(secret.to_owned().into());
    })
    .await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 10).await;
    let (_creator_sio, _publisher) = publish(&app, &creator, &room).await;

    let viewer = app.register("vw").await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let ice = app.get("/api/media/ice-servers", Some(&viewer.token)).await;
    let server = &ice.assert_ok(200)["iceServers"][0];
    assert_eq!(server["urls"][0], turn_url.as_str());
    let turn = TurnConfig {
        server: SocketAddr::from(([127, 0, 0, 1], coturn.port)),
        username: server["username"].as_str().unwrap().to_owned(),
        credential: server["credential"].as_str().unwrap().to_owned(),
    };

    let mut sio = Sio::connect(&app, &viewer).await;
    let ack = sio.ok("media:view", json!({"roomId": room["id"]})).await;
    let (peer, answer) = TestPeer::answer_via_turn(ack["sdp"].as_str().unwrap(), &turn)
        .await
        .unwrap();
    assert!(
        answer.contains("typ relay"),
        "only a relay candidate: {answer}"
    );
    assert!(!answer.contains("typ host"));
    sio.ok("media:answer", json!({"roomId": room["id"], "sdp": answer}))
        .await;
    let (ok, counts) = peer
        .wait_for(Duration::from_secs(20), |c| {
            c.audio_frames > 5 && c.video_frames > 5
        })
        .await;
    assert!(
        ok,
        "no media through the relay: {counts:?}\n{}",
        coturn.log()
    );

    // Wrong credentials are refused by coturn itself.
    let forged = TurnConfig {
        credential: "bm90IGl0".into(),
        ..turn
    };
    let ack = sio.ok("media:view", json!({"roomId": room["id"]})).await;
    assert!(
        TestPeer::answer_via_turn(ack["sdp"].as_str().unwrap(), &forged)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn with_coturn_down_viewers_still_watch_directly() {
    let dead_turn = format!("turn:127.0.0.1:{}?transport=udp", free_port());
    let app = spawn_app_with(&shared_db_uri(), move |s| {
        s.turn_urls = vec![dead_turn];
        s.turn_secret = Some("nobody-listens".to_owned().into());
    })
    .await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let (_creator_sio, _publisher) = publish(&app, &creator, &room).await;

    let viewer = app.register("vw").await;
    app.get("/api/media/ice-servers", Some(&viewer.token))
        .await
        .assert_ok(200);
    let mut sio = Sio::connect(&app, &viewer).await;
    let peer = view(&mut sio, &room).await;
    receives_media(&peer).await;
}
