//! Owns one peer: its `Rtc`, its role in a room, and the drain of
//! `poll_output` after every mutation (transmits are queued in the core's
//! [`Transmits`]; events come back as [`Note`]s for the core to act on). Any
//! str0m error or panic marks the peer as failed instead of escaping. No
//! sockets and no clock here: time comes in with the inputs.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use str0m::change::SdpPendingOffer;
use str0m::format::PayloadParams;
use str0m::media::{KeyframeRequest, MediaKind, Mid, Pt, Rid};
use str0m::rtp::{RtpPacket, Ssrc};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::core::Transmits;
use crate::forward::{Rebase, subscriber_pt};
use crate::keyframe::KeyframeThrottle;
use crate::sdp;
use crate::{DownReason, IceFragment, IcePatch, PeerId, SfuError};

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
    /// Where that datagram came from.
    pub(crate) last_from: Option<SocketAddr>,
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
    /// The client's offer as last applied (ICE parts updated by restarts),
    /// when the peer was made from one.
    remote_offer: Option<String>,
    /// The client's current ICE credentials (ufrag, pwd), from that offer.
    remote_ice: Option<(String, String)>,
    /// An upstream: a publisher-like peer pulling the room from another
    /// SFU, reported with upstream events. Its datagrams use a socket of its
    /// own (the engine's), not the shard's.
    pub(crate) upstream: bool,
    /// A subscriber that is another SFU's upstream
    /// ([`crate::Sfu::subscribe_relay`]).
    pub(crate) relay: bool,
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
            last_from: None,
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
            remote_offer: None,
            remote_ice: None,
            upstream: false,
            relay: false,
        }
    }

    /// Queues one transmit: for the peer's own socket when it is an
    /// upstream, else for the shard's.
    fn transmit(&self, out: &mut Transmits, destination: SocketAddr, data: Vec<u8>) {
        if self.upstream {
            out.upstream.push((self.id, destination, data));
        } else {
            out.shard.push((destination, data));
        }
    }

    /// Remembers the client's offer the peer was made from.
    pub(crate) fn set_remote_offer(&mut self, offer: Option<String>) {
        self.remote_ice = offer.as_deref().and_then(sdp::ice_credentials);
        self.remote_offer = offer;
    }

    /// A client's trickle-ICE fragment: candidates for the current ICE
    /// credentials are added; new credentials restart ICE. str0m restarts
    /// ICE when an offer carries new credentials, so the client's offer is
    /// applied again with only its ICE lines changed (RFC 9725 §4.3.3: the
    /// rest of the negotiation still holds); the answer's credentials and
    /// candidates go back to the client.
    pub(crate) fn patch_ice(
        &mut self,
        fragment: IceFragment,
        out: &mut Transmits,
        notes: &mut Vec<Note>,
    ) -> Result<IcePatch, SfuError> {
        // Candidates the SFU can't use (mDNS `.local` names it can't
        // resolve) are skipped: as an ICE-lite peer it learns the client's
        // address from the client's own checks anyway (RFC 8445 §2.5).
        let candidates: Vec<Candidate> = fragment
            .candidates
            .iter()
            .filter_map(|c| match Candidate::from_sdp_string(c) {
                Ok(candidate) => Some(candidate),
                Err(e) => {
                    tracing::debug!(peer = %self.id, error = %e, "candidate skipped");
                    None
                }
            })
            .collect();
        let current = self
            .remote_ice
            .as_ref()
            .is_some_and(|(ufrag, pwd)| *ufrag == fragment.ufrag && *pwd == fragment.pwd);
        if current {
            self.mutate(out, notes, |rtc| {
                for candidate in candidates {
                    rtc.add_remote_candidate(candidate);
                }
            });
            return Ok(IcePatch::Trickled);
        }
        let offer_text = self
            .remote_offer
            .as_deref()
            .ok_or(SfuError::NoRemoteOffer)?;
        let restarted = sdp::with_ice(offer_text, &fragment.ufrag, &fragment.pwd);
        let offer = sdp::parse_offer(&restarted)?;
        let mut answer = None;
        self.mutate(out, notes, |rtc| {
            answer = Some(rtc.sdp_api().accept_offer(offer));
            for candidate in candidates {
                rtc.add_remote_candidate(candidate);
            }
        });
        let answer = match answer {
            Some(Ok(answer)) => answer,
            Some(Err(e)) => {
                // Half-applied: the peer can't be trusted to recover.
                self.fail(DownReason::Failed);
                return Err(SfuError::InvalidSdp(e.to_string()));
            }
            None => return Err(SfuError::UnknownPeer), // Failed meanwhile.
        };
        self.remote_ice = Some((fragment.ufrag, fragment.pwd));
        self.remote_offer = Some(restarted);
        let local = self.rtc.direct_api().local_ice_credentials();
        let answer = answer.to_sdp_string();
        // One candidate: the address the client reached before. RFC 9725
        // §4.3.3 makes candidates in the answer optional, and a widely used
        // client (Medooze's whip-whep 1.2) joins several with commas into
        // an SDP the browser refuses.
        let candidates = sdp::reachable_candidate(&sdp::candidates(&answer), self.last_from)
            .into_iter()
            .collect();
        Ok(IcePatch::Restarted(IceFragment {
            ufrag: local.ufrag,
            pwd: local.pass,
            media: sdp::first_media(&answer),
            candidates,
            // ICE-lite: the SFU's host candidates are all there is.
            end_of_candidates: true,
        }))
    }

    /// Feeds one input, then drains.
    pub(crate) fn handle_input(
        &mut self,
        input: Input<'_>,
        out: &mut Transmits,
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
        out: &mut Transmits,
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
    pub(crate) fn drain(&mut self, out: &mut Transmits, notes: &mut Vec<Note>) {
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
                Output::Transmit(t) => self.transmit(out, t.destination, t.contents.into()),
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
    pub(crate) fn close(&mut self, out: &mut Transmits) {
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
                Ok(Ok(Output::Transmit(t))) => self.transmit(out, t.destination, t.contents.into()),
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

    /// An upstream's video stream as its origin's answer declared it
    /// (`a=ssrc`), before any packet arrived: a keyframe request can go up
    /// at once instead of waiting for the first packet.
    pub(crate) fn declared_video_ssrc(&mut self) -> Option<Ssrc> {
        if !self.upstream {
            return None;
        }
        let mid = self
            .tracks_in
            .iter()
            .find(|t| t.kind == MediaKind::Video)?
            .mid;
        self.rtc
            .direct_api()
            .stream_rx_by_mid(mid, None)
            .map(|s| s.ssrc())
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
