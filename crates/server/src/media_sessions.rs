//! Owns the WHIP and WHEP session resources (RFC 9725 §4.2): the
//! unguessable ids in their URLs, the SFU peer behind each, its entity tag
//! for conditional PATCHes (§4.3.1), and tombstones that keep an ended
//! session answerable for a while, so a client's `DELETE` after its peer
//! already hung up still succeeds.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mongodb::bson::oid::ObjectId;
use rand::RngCore;
use streamshare_sfu::PeerId;

/// Whether a peer sends the room's stream or watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The creator's stream (browser or WHIP).
    Publisher,
    /// A viewer (Socket.IO `media:view` or WHEP).
    Subscriber,
    /// Another instance's upstream pulling the room from this home (see
    /// `cascade`); booked as the creator's, so the creator's suspension
    /// stops it too.
    Relay,
    /// Either side of a private session (publishing their camera or
    /// watching the other's): no room's business, no viewer count.
    Private,
}

/// How long an ended session still answers its URL.
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(5 * 60);
/// Most ended sessions kept at once; the oldest go first.
pub const MAX_TOMBSTONES: usize = 10_000;

/// One WHIP or WHEP session as its URL's handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The SFU peer behind it.
    pub peer: PeerId,
    /// The room it publishes to or plays.
    pub room: ObjectId,
    /// Whose it is (for WHIP: the room's creator).
    pub user: ObjectId,
    /// WHIP (publisher) or WHEP (subscriber).
    pub role: Role,
    /// The current entity tag, quoted; it changes with every ICE restart.
    pub etag: String,
    /// The peer is gone; the URL still answers `DELETE` until the TTL.
    pub ended: bool,
}

#[derive(Default)]
struct Book {
    by_id: HashMap<String, Session>,
    by_peer: HashMap<PeerId, String>,
    /// Ended sessions, oldest first, with when they ended.
    ended: VecDeque<(Instant, String)>,
}

impl Book {
    fn prune(&mut self, now: Instant) {
        while let Some((at, id)) = self.ended.front() {
            if now.duration_since(*at) < TOMBSTONE_TTL && self.ended.len() <= MAX_TOMBSTONES {
                break;
            }
            self.by_id.remove(id);
            self.ended.pop_front();
        }
    }
}

/// The book of WHIP and WHEP sessions.
#[derive(Default)]
pub struct Sessions {
    book: Mutex<Book>,
}

/// 128 random bits as 32 hex digits: a session id or (shorter) an ETag.
fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh strong entity tag.
pub fn new_etag() -> String {
    format!("\"{}\"", random_hex(8))
}

impl Sessions {
    /// Books a new session for `peer`; returns its id for the URL and its
    /// first entity tag.
    pub fn open(
        &self,
        peer: PeerId,
        room: ObjectId,
        user: ObjectId,
        role: Role,
    ) -> (String, String) {
        let id = random_hex(16);
        let session = Session {
            peer,
            room,
            user,
            role,
            etag: new_etag(),
            ended: false,
        };
        let mut book = self.lock();
        book.prune(Instant::now());
        let etag = session.etag.clone();
        book.by_peer.insert(peer, id.clone());
        book.by_id.insert(id.clone(), session);
        (id, etag)
    }

    /// The URL id of a live session's peer.
    pub fn id_of(&self, peer: PeerId) -> Option<String> {
        self.lock().by_peer.get(&peer).cloned()
    }

    /// The session behind an id, live or recently ended.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut book = self.lock();
        book.prune(Instant::now());
        book.by_id.get(id).cloned()
    }

    /// A new entity tag for a live session (after an ICE restart).
    pub fn renew_etag(&self, id: &str) -> Option<String> {
        let mut book = self.lock();
        let session = book.by_id.get_mut(id).filter(|s| !s.ended)?;
        session.etag = new_etag();
        Some(session.etag.clone())
    }

    /// The peer is gone: its session becomes a tombstone.
    pub fn end_peer(&self, peer: PeerId) {
        let mut book = self.lock();
        let Some(id) = book.by_peer.remove(&peer) else {
            return;
        };
        if let Some(session) = book.by_id.get_mut(&id) {
            session.ended = true;
            book.ended.push_back((Instant::now(), id));
        }
        book.prune(Instant::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_ended_sessions_stay_answerable() {
        let sessions = Sessions::default();
        let room = ObjectId::new();
        let user = ObjectId::new();
        let (ida, etag_a) = sessions.open(PeerId(1), room, user, Role::Publisher);
        let (idb, etag_b) = sessions.open(PeerId(2), room, user, Role::Subscriber);
        assert_eq!(sessions.id_of(PeerId(2)).as_ref(), Some(&idb));
        assert_eq!(ida.len(), 32);
        assert_ne!(ida, idb);
        assert_ne!(etag_a, etag_b);

        sessions.end_peer(PeerId(1));
        let ended = sessions.get(&ida).unwrap();
        assert!(ended.ended);
        assert_eq!(sessions.id_of(PeerId(1)), None);
        assert_eq!(
            sessions.renew_etag(&ida),
            None,
            "no ICE on an ended session"
        );
        let renewed = sessions.renew_etag(&idb).unwrap();
        assert_ne!(renewed, etag_b);
        assert_eq!(sessions.get(&idb).unwrap().etag, renewed);
        assert_eq!(sessions.get("0123"), None);
    }

    #[test]
    fn tombstones_are_bounded() {
        let sessions = Sessions::default();
        let room = ObjectId::new();
        let mut first = None;
        for i in 0..(MAX_TOMBSTONES as u64 + 5) {
            let (id, _) = sessions.open(PeerId(i), room, room, Role::Subscriber);
            first.get_or_insert(id);
            sessions.end_peer(PeerId(i));
        }
        let book = sessions.lock();
        assert_eq!(book.ended.len(), MAX_TOMBSTONES);
        assert_eq!(book.by_id.len(), MAX_TOMBSTONES);
        assert!(!book.by_id.contains_key(first.as_ref().unwrap()));
    }
}
