//! WHIP and WHEP as third-party clients use them (issue 22): CORS on the
//! media doors only, session URLs that answer DELETE after the peer hung
//! up, trickle ICE and ICE restarts over PATCH (RFC 9725 §4.3), and ICE
//! servers in `Link` headers (§4.6). Real server, real str0m peers on
//! loopback.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::json;
use streamshare::routes::media::turn_credential;
use streamshare_sfu::testing::{TestPeer, wait_until_async};

use crate::helpers::{Reply, TestApp, TestUser, shared_db_uri, spawn_app, spawn_app_with};
use crate::media_plane::receives_media;

const SOON: Duration = Duration::from_secs(20);
const SDPFRAG: &str = "application/trickle-ice-sdpfrag";

/// A room with a stream key, published over WHIP by a test peer.
struct Show {
    creator: TestUser,
    room: String,
    key: String,
    whip_location: String,
    publisher: TestPeer,
    answer: String,
    etag: String,
}

async fn whip_show(app: &TestApp, price: i64) -> Show {
    let creator = app.register("cr").await;
    let room = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({"title": "WHIP show", "price": price}),
        )
        .await
        .assert_ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = app
        .get(
            &format!("/api/rooms/{room}/stream-key"),
            Some(&creator.token),
        )
        .await
        .body["streamKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let (pending, offer) = TestPeer::publisher_offer().unwrap();
    let resp = post_sdp(app, &format!("/api/media/whip/{room}"), &key, &offer, None).await;
    assert_eq!(resp.status(), 201);
    let (whip_location, etag) = location_and_etag(resp.headers());
    let answer = resp.text().await.unwrap();
    let publisher = pending.complete(&answer).unwrap();
    Show {
        creator,
        room,
        key,
        whip_location,
        publisher,
        answer,
        etag,
    }
}

/// A paying viewer playing over WHEP.
struct Play {
    viewer: TestUser,
    location: String,
    etag: String,
    offer: String,
    answer: String,
    player: TestPeer,
}

async fn whep_play(app: &TestApp, show: &Show) -> Play {
    let viewer = app.register("vw").await;
    let room = app.get(&format!("/api/rooms/{}", show.room), None).await;
    app.pay(&viewer, &room.body, None).await.assert_ok(200);
    let (pending, offer) = TestPeer::whep_offer().unwrap();
    let resp = post_sdp(
        app,
        &format!("/api/media/whep/{}", show.room),
        &viewer.token,
        &offer,
        None,
    )
    .await;
    assert_eq!(resp.status(), 201);
    let (location, etag) = location_and_etag(resp.headers());
    let answer = resp.text().await.unwrap();
    let player = pending.complete(&answer).unwrap();
    receives_media(&player).await;
    Play {
        viewer,
        location,
        etag,
        offer,
        answer,
        player,
    }
}

async fn post_sdp(
    app: &TestApp,
    path: &str,
    bearer: &str,
    sdp: &str,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url(path))
        .bearer_auth(bearer)
        .header("content-type", "application/sdp")
        .body(sdp.to_owned());
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    req.send().await.unwrap()
}

fn location_and_etag(headers: &HeaderMap) -> (String, String) {
    assert_eq!(headers["accept-patch"], SDPFRAG);
    (
        headers["location"].to_str().unwrap().to_owned(),
        headers["etag"].to_str().unwrap().to_owned(),
    )
}

async fn patch(
    app: &TestApp,
    location: &str,
    bearer: &str,
    if_match: Option<&str>,
    fragment: &str,
) -> reqwest::Response {
    let mut req = app
        .http
        .patch(app.url(location))
        .bearer_auth(bearer)
        .header("content-type", SDPFRAG)
        .body(fragment.to_owned());
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

fn attr<'a>(sdp: &'a str, name: &str) -> &'a str {
    sdp.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {sdp}"))
        .trim()
}

/// A trickle fragment for the client's current ICE generation (as
/// whip-whep's clients send after the POST).
fn trickle_fragment(offer: &str) -> String {
    format!(
        "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n\
         a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n",
        attr(offer, "a=ice-ufrag:"),
        attr(offer, "a=ice-pwd:"),
    )
}

/// The `Link: ...; rel="ice-server"` values of a response.
fn ice_links(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|l| l.contains("rel=\"ice-server\""))
        .collect()
}

fn link_param(link: &str, name: &str) -> String {
    link.split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {link}"))
        .trim_matches('"')
        .to_owned()
}

#[tokio::test]
async fn the_media_doors_answer_cors_preflights_and_the_rest_of_the_api_stays_same_origin() {
    let app = spawn_app().await;
    let show = whip_show(&app, 10).await;
    let player_site = "https://player.example";
    let session_url = show.whip_location.clone();
    for path in [
        format!("/api/media/whip/{}", show.room),
        format!("/api/media/whep/{}", show.room),
        session_url.clone(),
        format!(
            "/api/media/whep/{}/0123456789abcdef0123456789abcdef",
            show.room
        ),
    ] {
        for method in ["POST", "PATCH", "DELETE"] {
            let preflight = app
                .http
                .request(Method::OPTIONS, app.url(&path))
                .header("origin", player_site)
                .header("access-control-request-method", method)
                .header(
                    "access-control-request-headers",
                    "authorization,content-type,if-match",
                )
                .send()
                .await
                .unwrap();
            assert!(
                preflight.status().is_success(),
                "{path} {method}: {}",
                preflight.status()
            );
            let h = preflight.headers();
            assert_eq!(h["access-control-allow-origin"], "*", "{path}");
            let methods = h["access-control-allow-methods"].to_str().unwrap();
            for m in ["POST", "PATCH", "DELETE", "OPTIONS"] {
                assert!(methods.contains(m), "{path}: {methods}");
            }
            let headers = h["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .to_lowercase();
            for wanted in ["authorization", "content-type", "if-match"] {
                assert!(headers.contains(wanted), "{path}: {headers}");
            }
            assert!(h.get("access-control-allow-credentials").is_none());
        }
    }

    // The real request from that origin: the answer's headers are readable.
    let viewer = app.register("vw").await;
    let room = app.get(&format!("/api/rooms/{}", show.room), None).await;
    app.pay(&viewer, &room.body, None).await.assert_ok(200);
    let (_pending, offer) = TestPeer::whep_offer().unwrap();
    let resp = post_sdp(
        &app,
        &format!("/api/media/whep/{}", show.room),
        &viewer.token,
        &offer,
        Some(player_site),
    )
    .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for wanted in ["location", "link", "etag", "accept-patch"] {
        assert!(exposed.contains(wanted), "{exposed}");
    }
    // Refusals are readable too (a player can tell "pay first").
    let stranger = app.register("st").await;
    let refused = post_sdp(
        &app,
        &format!("/api/media/whep/{}", show.room),
        &stranger.token,
        &offer,
        Some(player_site),
    )
    .await;
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");
    Reply::from(refused)
        .await
        .assert_error(403, "payment_required");

    // Everything else under /api: no CORS for anyone.
    for path in ["/api/users/me", "/api/rooms", "/api/media/ice-servers"] {
        let preflight = app
            .http
            .request(Method::OPTIONS, app.url(path))
            .header("origin", player_site)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap();
        assert!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn configured_media_origins_are_the_only_ones_allowed() {
    let app = spawn_app_with(&shared_db_uri(), |s| {
        s.media_allowed_origins = vec![
            "https://player.example".into(),
            "https://obs.example".into(),
        ];
    })
    .await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let path = format!("/api/media/whep/{}", room["id"].as_str().unwrap());
    let preflight = |origin: &'static str| {
        app.http
            .request(Method::OPTIONS, app.url(&path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://obs.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://obs.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_session_url_answers_delete_after_the_peer_hung_up_and_only_for_its_owner() {
    let app = spawn_app().await;
    let show = whip_show(&app, 10).await;
    let play = whep_play(&app, &show).await;

    // Unguessable ids: 128 random bits, nothing sequential to probe.
    let id = play.location.rsplit('/').next().unwrap();
    assert_eq!(id.len(), 32, "{}", play.location);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(id, show.whip_location.rsplit('/').next().unwrap());

    // A player stops the way whip-whep's clients do: it closes its peer
    // connection first, then sends DELETE. Wait until the server has seen
    // the hang-up (a PATCH then says the session ended).
    play.player.close().await;
    let frag = trickle_fragment(&play.offer);
    let (ended, status) = wait_until_async(SOON, || {
        let (app, location, token, frag) = (&app, &play.location, &play.viewer.token, &frag);
        async move {
            let status = patch(app, location, token, None, frag).await.status();
            (status == 404, status)
        }
    })
    .await;
    assert!(ended, "the hang-up was noticed: {status}");

    let other = app.register("ot").await;
    app.send(Method::DELETE, &play.location, Some(&other.token), None)
        .await
        .assert_error(403, "forbidden");
    for _ in 0..2 {
        let deleted = app
            .send(
                Method::DELETE,
                &play.location,
                Some(&play.viewer.token),
                None,
            )
            .await;
        assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    }
    let unknown = format!(
        "/api/media/whep/{}/0123456789abcdef0123456789abcdef",
        show.room
    );
    app.send(Method::DELETE, &unknown, Some(&play.viewer.token), None)
        .await
        .assert_error(404, "session_not_found");
    // The old sequential form finds nothing either.
    for guess in ["1", "2", "3"] {
        let path = format!("/api/media/whep/{}/{guess}", show.room);
        app.send(Method::DELETE, &path, Some(&play.viewer.token), None)
            .await
            .assert_error(404, "session_not_found");
    }

    // The publisher hangs up too; its key still ends the session (200),
    // and someone else's token may not.
    show.publisher.close().await;
    let stranger = app.register("st").await;
    app.send(
        Method::DELETE,
        &show.whip_location,
        Some(&stranger.token),
        None,
    )
    .await
    .assert_error(403, "forbidden");
    let (done, last) = wait_until_async(SOON, || {
        let (app, location, key) = (&app, &show.whip_location, &show.key);
        async move {
            let reply = app.send(Method::DELETE, location, Some(key), None).await;
            (reply.status == 200, reply)
        }
    })
    .await;
    assert!(done, "{last:?}");
}

#[tokio::test]
async fn patch_trickles_candidates_and_restarts_ice_mid_stream() {
    let app = spawn_app().await;
    let show = whip_show(&app, 10).await;
    let play = whep_play(&app, &show).await;
    let token = &play.viewer.token;

    // Trickle ICE for the current generation, with the ETag or without one
    // (WHEPClient sends none): 204.
    let frag = trickle_fragment(&play.offer);
    for tag in [Some(play.etag.as_str()), None] {
        let resp = patch(&app, &play.location, token, tag, &frag).await;
        assert_eq!(resp.status(), 204);
    }
    Reply::from(patch(&app, &play.location, token, Some("\"stale\""), &frag).await)
        .await
        .assert_error(412, "precondition_failed");
    let wrong_type = app
        .http
        .patch(app.url(&play.location))
        .bearer_auth(token)
        .header("content-type", "application/sdp")
        .body(frag.clone())
        .send()
        .await
        .unwrap();
    Reply::from(wrong_type)
        .await
        .assert_error(415, "unsupported_media_type");
    Reply::from(patch(&app, &play.location, token, None, "a=candidate:x\r\n").await)
        .await
        .assert_error(422, "validation_failed");
    let other = app.register("ot").await;
    Reply::from(patch(&app, &play.location, &other.token, None, &frag).await)
        .await
        .assert_error(403, "forbidden");

    // The viewer's network changes: ICE restart (If-Match: *), answered
    // with the server's new credentials and a new ETag; frames resume.
    let restart = play.player.restart_ice().await.unwrap();
    let resp = patch(&app, &play.location, token, Some("*"), &restart).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], SDPFRAG);
    let new_etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, play.etag);
    let answer = resp.text().await.unwrap();
    assert_ne!(
        attr(&answer, "a=ice-ufrag:"),
        attr(&play.answer, "a=ice-ufrag:")
    );
    assert!(answer.contains("a=candidate:"), "{answer}");
    restart_completes(&play.player, &answer, &play.player, "the viewer's restart").await;
    // The old ETag is stale now; the new one works.
    Reply::from(patch(&app, &play.location, token, Some(&play.etag), &restart).await)
        .await
        .assert_error(412, "precondition_failed");
    assert_eq!(
        patch(&app, &play.location, token, Some(&new_etag), &restart)
            .await
            .status(),
        204
    );

    // A new network: the viewer's old address is gone for good; it
    // restarts from a new one and keeps watching on the same session.
    let moved = play.player.restart_ice_from_new_address().await.unwrap();
    let resp = patch(&app, &play.location, token, Some("*"), &moved).await;
    assert_eq!(resp.status(), 200);
    let answer = resp.text().await.unwrap();
    restart_completes(&play.player, &answer, &play.player, "from a new address").await;

    // The publisher restarts too (WHIP, with its stream key); the viewer
    // keeps receiving.
    let restart = show.publisher.restart_ice().await.unwrap();
    let resp = patch(&app, &show.whip_location, &show.key, Some("*"), &restart).await;
    assert_eq!(resp.status(), 200);
    assert_ne!(resp.headers()["etag"].to_str().unwrap(), show.etag);
    let answer = resp.text().await.unwrap();
    assert_ne!(
        attr(&answer, "a=ice-ufrag:"),
        attr(&show.answer, "a=ice-ufrag:")
    );
    restart_completes(
        &show.publisher,
        &answer,
        &play.player,
        "the publisher's restart",
    )
    .await;
}

#[tokio::test]
async fn ice_servers_come_in_link_headers_with_the_callers_turn_credentials() {
    let app = spawn_app_with(&shared_db_uri(), |s| {
        s.turn_urls = vec![
            "stun:127.0.0.1:3478".into(),
            "turn:127.0.0.1:3478?transport=udp".into(),
        ];
        s.turn_secret = Some("link-secret".to_owned().into());
    })
    .await;
    let show = whip_show(&app, 0).await;
    let check = |links: Vec<String>, user: &str| {
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(links[0].starts_with("<stun:127.0.0.1:3478>"), "{links:?}");
        let turn = &links[1];
        assert!(
            turn.starts_with("<turn:127.0.0.1:3478?transport=udp>"),
            "{turn}"
        );
        let username = link_param(turn, "username");
        let (expiry, owner) = username.split_once(':').unwrap();
        assert_eq!(owner, user);
        let (_, password) = turn_credential("link-secret", owner, expiry.parse().unwrap());
        assert_eq!(link_param(turn, "credential"), password);
        assert_eq!(link_param(turn, "credential-type"), "password");
    };

    // The stream key's POST answer: the creator's credentials.
    let (_pending, offer) = TestPeer::publisher_offer().unwrap();
    let resp = post_sdp(
        &app,
        &format!("/api/media/whip/{}", show.room),
        &show.key,
        &offer,
        None,
    )
    .await;
    assert_eq!(resp.status(), 201);
    check(ice_links(resp.headers()), &show.creator.id);

    // OPTIONS before POST (RFC 9725 §4.6): with a token, the caller's own.
    let viewer = app.register("vw").await;
    let whep = app.url(&format!("/api/media/whep/{}", show.room));
    let resp = app
        .http
        .request(Method::OPTIONS, &whep)
        .bearer_auth(&viewer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    check(ice_links(resp.headers()), &viewer.id);
    let resp = app
        .http
        .request(
            Method::OPTIONS,
            app.url(&format!("/api/media/whip/{}", show.room)),
        )
        .bearer_auth(&show.key)
        .send()
        .await
        .unwrap();
    check(ice_links(resp.headers()), &show.creator.id);
    // No token, no credentials; a stranger gets none of the creator's.
    let anonymous = app
        .http
        .request(Method::OPTIONS, &whep)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 204);
    assert!(ice_links(anonymous.headers()).is_empty());
    let stranger = app
        .http
        .request(
            Method::OPTIONS,
            app.url(&format!("/api/media/whip/{}", show.room)),
        )
        .bearer_auth(&viewer.token)
        .send()
        .await
        .unwrap();
    Reply::from(stranger).await.assert_error(403, "forbidden");

    // The WHEP POST answer: the viewer's (a free room).
    let (_pending, offer) = TestPeer::whep_offer().unwrap();
    let resp = post_sdp(
        &app,
        &format!("/api/media/whep/{}", show.room),
        &viewer.token,
        &offer,
        None,
    )
    .await;
    assert_eq!(resp.status(), 201);
    check(ice_links(resp.headers()), &viewer.id);
}

/// Completes `peer`'s ICE restart with the server's sdpfrag `answer`, then
/// waits until its ICE connects again and 30 more frames reach `watcher`.
async fn restart_completes(peer: &TestPeer, answer: &str, watcher: &TestPeer, what: &str) {
    let connects = peer.counts().ice_connects;
    peer.finish_ice_restart(answer).await.unwrap();
    let (reconnected, counts) = peer.wait_for(SOON, |c| c.ice_connects > connects).await;
    assert!(reconnected, "{what}: ICE connects again: {counts:?}");
    let before = watcher.counts();
    let (resumed, counts) = watcher
        .wait_for(SOON, |c| c.video_frames > before.video_frames + 30)
        .await;
    assert!(resumed, "{what}: frames resume: {counts:?}");
}
