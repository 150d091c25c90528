//! Owns one peer: its `Rtc`, its role in a room, and the drain of
//! `poll_output` after every mutation (transmits are queued in the
//! [`Outbox`]; events come back as [`Note`]s for the engine to act on). Any
//! str0m error or panic marks the peer as failed instead of escaping.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use str0m::change::SdpPendingOffer;
use str0m::format::PayloadParams;
use str0m::media::{KeyframeRequest, MediaKind, Mid, Pt, Rid};
use str0m::rtp::{RtpPacket, Ssrc};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};

use crate::forward::{Rebase, subscriber_pt};
use crate::keyframe::KeyframeThrottle;
use crate::outbox::Outbox;
use crate::{DownReason, PeerId};

/// Publisher or subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Sends media into its room.
    Publisher,
    /// Receives its room's media.
    Subscriber,
}

/// What draining a peer produced that the engine must act on.
pub(crate) enum Note {
    /// ICE and DTLS are up.
    Connected,
    /// The remote declared a new m-line (publisher media, or a WHEP
    /// subscriber's recvonly line).
    MediaAdded { mid: Mid, kind: MediaKind },
    /// An RTP packet from a publisher.
    Rtp(Box<RtpPacket>),
    /// A subscriber asked for a keyframe on one of its tracks.
    KeyframeRequest(KeyframeRequest),
}

/// A publisher track (one m-line the publisher sends on).
#[derive(Debug)]
pub(crate) struct TrackIn {
    pub(crate) mid: Mid,
    pub(crate) kind: MediaKind,
    /// The SSRC being forwarded, with its RID (simulcast layer), once
    /// packets arrived.
    pub(crate) active: Option<(Ssrc, Option<Rid>)>,
}

/// A subscriber track (one sendonly m-line towards the subscriber).
#[derive(Debug)]
pub(crate) struct TrackOut {
    pub(crate) mid: Mid,
    pub(crate) kind: MediaKind,
    pub(crate) rebase: Rebase,
    /// The last payload type mapping (publisher's → this track's), so the
    /// codec lookup runs once per source, not once per packet.
    pub(crate) pt_map: Option<(Pt, Pt)>,
}

impl TrackOut {
    pub(crate) fn new(mid: Mid, kind: MediaKind) -> Self {
        Self {
            mid,
            kind,
            rebase: Rebase::default(),
            pt_map: None,
        }
    }
}

/// One peer connection.
pub(crate) struct Peer {
    pub(crate) id: PeerId,
    pub(crate) room: String,
    pub(crate) role: Role,
    pub(crate) rtc: Rtc,
    pub(crate) created: Instant,
    pub(crate) connected: bool,
    /// Last time a datagram from this peer arrived.
    pub(crate) last_heard: Instant,
    /// A publisher's last RTP packet, once it sent one.
    pub(crate) last_media: Option<Instant>,
    /// A publisher reported stalled (no RTP for the stall time).
    pub(crate) stalled: bool,
    /// When `rtc` next wants an `Input::Timeout`.
    pub(crate) next_timeout: Instant,
    /// The wake-up filed on the engine's timer heap, if any.
    pub(crate) scheduled: Option<Instant>,
    /// The SFU's offer waiting for the subscriber's answer.
    pub(crate) pending_offer: Option<SdpPendingOffer>,
    pub(crate) tracks_in: Vec<TrackIn>,
    /// Keyframe requests for the forwarded video track. Kept per peer, not
    /// per track: a request may come before str0m announces the track.
    pub(crate) keyframes: KeyframeThrottle,
    pub(crate) tracks_out: Vec<TrackOut>,
    /// Set once the peer must go; the engine removes it and reports it.
    pub(crate) down: Option<DownReason>,
    /// Source addresses seen, to forget in the demux cache on removal.
    pub(crate) addrs: Vec<SocketAddr>,
}

impl Peer {
    pub(crate) fn new(id: PeerId, room: String, role: Role, rtc: Rtc, now: Instant) -> Self {
        Self {
            id,
            room,
            role,
            rtc,
            created: now,
            connected: false,
            last_heard: now,
            last_media: None,
            stalled: false,
            next_timeout: now,
            scheduled: None,
            pending_offer: None,
            tracks_in: Vec::new(),
            keyframes: KeyframeThrottle::default(),
            tracks_out: Vec::new(),
            down: None,
            addrs: Vec::new(),
        }
    }

    /// Feeds one input, then drains.
    pub(crate) fn handle_input(
        &mut self,
        input: Input<'_>,
        out: &mut Outbox,
        notes: &mut Vec<Note>,
    ) {
        if self.down.is_some() {
            return;
        }
        let result = catch_unwind(AssertUnwindSafe(|| self.rtc.handle_input(input)));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::info!(peer = %self.id, error = %e, "peer input failed");
                self.fail(DownReason::Failed);
                return;
            }
            Err(_) => {
                tracing::error!(peer = %self.id, "str0m panicked on input; dropping the peer");
                self.fail(DownReason::Failed);
                return;
            }
        }
        self.drain(out, notes);
    }

    /// Runs a mutation on the `Rtc` (guarded against panics), then drains.
    pub(crate) fn mutate(
        &mut self,
        out: &mut Outbox,
        notes: &mut Vec<Note>,
        f: impl FnOnce(&mut Rtc),
    ) {
        if self.down.is_some() {
            return;
        }
        if catch_unwind(AssertUnwindSafe(|| f(&mut self.rtc))).is_err() {
            tracing::error!(peer = %self.id, "str0m panicked on a mutation; dropping the peer");
            self.fail(DownReason::Failed);
            return;
        }
        self.drain(out, notes);
    }

    /// Drains `poll_output` until `Output::Timeout`.
    pub(crate) fn drain(&mut self, out: &mut Outbox, notes: &mut Vec<Note>) {
        loop {
            if self.down.is_some() {
                return;
            }
            if !self.rtc.is_alive() {
                // str0m closed the session on its own (after a DTLS close
                // or a fatal condition); `Event::Closed` is mapped below.
                self.fail(DownReason::DtlsClosed);
                return;
            }
            let output = match catch_unwind(AssertUnwindSafe(|| self.rtc.poll_output())) {
                Ok(Ok(output)) => output,
                Ok(Err(e)) => {
                    tracing::info!(peer = %self.id, error = %e, "peer failed");
                    self.fail(DownReason::Failed);
                    return;
                }
                Err(_) => {
                    tracing::error!(peer = %self.id, "str0m panicked on poll; dropping the peer");
                    self.fail(DownReason::Failed);
                    return;
                }
            };
            match output {
                Output::Timeout(t) => {
                    self.next_timeout = t;
                    return;
                }
                Output::Transmit(t) => out.push(t.destination, t.contents.into()),
                Output::Event(event) => self.on_event(event, notes),
            }
        }
    }

    fn on_event(&mut self, event: Event, notes: &mut Vec<Note>) {
        match event {
            Event::Connected => {
                self.connected = true;
                notes.push(Note::Connected);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.fail(DownReason::IceTimeout);
            }
            Event::Closed => self.fail(DownReason::DtlsClosed),
            Event::MediaAdded(added) => notes.push(Note::MediaAdded {
                mid: added.mid,
                kind: added.kind,
            }),
            Event::RtpPacket(packet) => notes.push(Note::Rtp(Box::new(packet))),
            Event::KeyframeRequest(req) => notes.push(Note::KeyframeRequest(req)),
            _ => {}
        }
    }

    /// Marks the peer to be removed (the first reason wins).
    pub(crate) fn fail(&mut self, reason: DownReason) {
        if self.down.is_none() {
            self.down = Some(reason);
        }
    }

    /// Closes the session politely (RTCP BYE, DTLS close_notify), best effort.
    pub(crate) fn close(&mut self, out: &mut Outbox) {
        if !self.rtc.is_alive() {
            return;
        }
        let closed = catch_unwind(AssertUnwindSafe(|| self.rtc.close()));
        if !matches!(closed, Ok(Ok(()))) {
            return;
        }
        // Only transmits matter now; bounded in case str0m keeps producing.
        for _ in 0..64 {
            match catch_unwind(AssertUnwindSafe(|| self.rtc.poll_output())) {
                Ok(Ok(Output::Transmit(t))) => out.push(t.destination, t.contents.into()),
                Ok(Ok(Output::Event(_))) => {}
                _ => return,
            }
        }
    }

    /// The publisher track forwarded for `kind` (the first of that kind).
    pub(crate) fn primary_in(&mut self, kind: MediaKind) -> Option<&mut TrackIn> {
        self.tracks_in.iter_mut().find(|t| t.kind == kind)
    }

    /// The SSRC to ask for keyframes: the forwarded video stream, once its
    /// packets arrived.
    pub(crate) fn keyframe_ssrc(&self) -> Option<Ssrc> {
        self.tracks_in
            .iter()
            .find(|t| t.kind == MediaKind::Video)
            .and_then(|t| t.active)
            .map(|(ssrc, _)| ssrc)
    }

    /// The subscriber track for `kind` and its payload type for the
    /// publisher's `params`, if it negotiated that codec.
    pub(crate) fn out_pt(&mut self, kind: MediaKind, params: &PayloadParams) -> Option<(Mid, Pt)> {
        let track = self.tracks_out.iter_mut().find(|t| t.kind == kind)?;
        match track.pt_map {
            Some((from, to)) if from == params.pt() => Some((track.mid, to)),
            _ => {
                let to = subscriber_pt(&self.rtc, track.mid, params)?;
                track.pt_map = Some((params.pt(), to));
                Some((track.mid, to))
            }
        }
    }

    /// The subscriber track for `kind`.
    pub(crate) fn out_track(&mut self, kind: MediaKind) -> Option<&mut TrackOut> {
        self.tracks_out.iter_mut().find(|t| t.kind == kind)
    }
}
