//! Owns what happens to one forwarded RTP packet on its way to one
//! subscriber track: the payload type mapped by codec, and sequence numbers
//! and timestamps kept as the publisher sent them, except that they are
//! rebased when the source changes (a new publisher or SSRC) so the
//! subscriber sees one continuous stream on its one SSRC without
//! renegotiation.

use std::time::Instant;

use str0m::Rtc;
use str0m::format::PayloadParams;
use str0m::media::{Mid, Pt};
use str0m::rtp::{ExtensionValues, SeqNo, Ssrc};

use crate::PeerId;

/// The publisher stream a subscriber track currently follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Source {
    /// The publishing peer.
    pub(crate) peer: PeerId,
    /// Its SSRC for this track.
    pub(crate) ssrc: Ssrc,
}

/// Sequence and timestamp rebasing for one subscriber track.
#[derive(Debug, Default)]
pub(crate) struct Rebase {
    source: Option<Source>,
    /// Added to the incoming extended sequence number.
    seq_offset: i64,
    /// Added (wrapping) to the incoming RTP timestamp.
    ts_offset: u32,
    /// Highest extended sequence number written, with its timestamp and
    /// arrival time.
    last: Option<(u64, u32, Instant)>,
}

impl Rebase {
    /// Maps an incoming packet to the outgoing sequence number and
    /// timestamp, or `None` if it would fall before the stream's start (a
    /// late packet of a new source).
    pub(crate) fn map(
        &mut self,
        source: Source,
        seq: SeqNo,
        ts: u32,
        arrival: Instant,
        clock_rate: u32,
    ) -> Option<(SeqNo, u32)> {
        let seq_in = *seq;
        if self.source != Some(source) {
            self.switch(source, seq_in, ts, arrival, clock_rate);
        }
        let out = i64::try_from(seq_in).ok()?.checked_add(self.seq_offset)?;
        let out = u64::try_from(out).ok()?;
        let out_ts = ts.wrapping_add(self.ts_offset);
        if self.last.is_none_or(|(last, _, _)| out > last) {
            self.last = Some((out, out_ts, arrival));
        }
        Some((out.into(), out_ts))
    }

    fn switch(&mut self, source: Source, seq_in: u64, ts: u32, arrival: Instant, clock_rate: u32) {
        self.source = Some(source);
        match self.last {
            None => {
                // First source: keep the publisher's numbers, but start in
                // rollover 0 (a subscriber's SRTP context can't know another
                // ROC without signalling it).
                self.seq_offset = (seq_in & 0xffff) as i64 - seq_in as i64;
                self.ts_offset = 0;
            }
            Some((last_seq, last_ts, last_at)) => {
                // Continue right after the last packet, with the timestamp
                // advanced by the wall time that passed (at least one tick).
                self.seq_offset = (last_seq as i64 + 1) - seq_in as i64;
                let elapsed = arrival.saturating_duration_since(last_at);
                let ticks = (elapsed.as_secs_f64() * f64::from(clock_rate)).max(1.0);
                let out_ts = last_ts.wrapping_add(ticks as u32);
                self.ts_offset = out_ts.wrapping_sub(ts);
            }
        }
    }
}

/// Header extension values worth passing on. Those that belong to one hop
/// (MID/RID, transport-wide sequence, send time) are cleared: str0m sets
/// its own for the subscriber's link.
pub(crate) fn forwardable_extensions(ext: &ExtensionValues) -> ExtensionValues {
    let mut ext = ext.clone();
    ext.mid = None;
    ext.rid = None;
    ext.rid_repair = None;
    ext.transport_cc = None;
    ext.abs_send_time = None;
    ext
}

/// The subscriber's payload type for the publisher's codec on `mid`, if
/// the subscriber negotiated that codec there.
pub(crate) fn subscriber_pt(rtc: &Rtc, mid: Mid, params: &PayloadParams) -> Option<Pt> {
    let media = rtc.media(mid)?;
    let allowed = media.remote_pts();
    let config = rtc.codec_config();
    if let Some(best) = config.match_params(*params)
        && allowed.contains(&best.pt())
    {
        return Some(best.pt());
    }
    // The best match overall is not on this m-line: fall back to any
    // negotiated payload of the same codec, clock rate and channel count.
    let wanted = params.spec();
    config
        .params()
        .iter()
        .filter(|p| allowed.contains(&p.pt()))
        .find(|p| {
            let s = p.spec();
            s.codec == wanted.codec
                && s.clock_rate == wanted.clock_rate
                && s.channels == wanted.channels
        })
        .map(|p| p.pt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn src(peer: u64, ssrc: u32) -> Source {
        Source {
            peer: PeerId(peer),
            ssrc: ssrc.into(),
        }
    }

    #[test]
    fn first_source_keeps_numbers_in_rollover_zero() {
        let now = Instant::now();
        let mut r = Rebase::default();
        let (s, t) = r.map(src(1, 7), 1234.into(), 99, now, 90_000).unwrap();
        assert_eq!((*s, t), (1234, 99));
        let big: u64 = 3 * 65_536 + 10;
        let mut r = Rebase::default();
        let (s, _) = r.map(src(1, 7), big.into(), 0, now, 90_000).unwrap();
        assert_eq!(*s, 10);
        let (s, _) = r.map(src(1, 7), (big + 1).into(), 0, now, 90_000).unwrap();
        assert_eq!(*s, 11);
    }

    #[test]
    fn new_source_continues_the_stream() {
        let now = Instant::now();
        let mut r = Rebase::default();
        for i in 0..10u64 {
            r.map(
                src(1, 7),
                (100 + i).into(),
                1000 + i as u32 * 3000,
                now,
                90_000,
            );
        }
        let later = now + Duration::from_millis(100);
        let (s, t) = r.map(src(2, 9), 50_000.into(), 5, later, 90_000).unwrap();
        assert_eq!(*s, 110);
        assert_eq!(t, 1000 + 9 * 3000 + 9000);
        let (s, t) = r
            .map(src(2, 9), 50_001.into(), 3005, later, 90_000)
            .unwrap();
        assert_eq!((*s, t), (111, 1000 + 9 * 3000 + 12000));
    }

    #[test]
    fn late_packet_before_the_start_is_dropped() {
        let now = Instant::now();
        let mut r = Rebase::default();
        r.map(src(1, 7), 65_536.into(), 0, now, 90_000).unwrap();
        assert!(r.map(src(1, 7), 65_535.into(), 0, now, 90_000).is_none());
    }
}
