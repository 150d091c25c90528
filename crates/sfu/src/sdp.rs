//! Owns the SDP edge: size limits, parsing of untrusted SDP text into
//! str0m values, and how every SFU-side `Rtc` is configured (ICE-lite, RTP
//! mode, exactly Opus + VP8 + H.264, host candidates).

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::{Candidate, Rtc};

use crate::{IceFragment, MAX_SDP_BYTES, SfuError};

/// The msid stream id of a subscriber's two tracks, so a browser puts them
/// in one `MediaStream`.
const STREAM_ID: &str = "streamshare";

/// Parses a remote offer, refusing oversized or garbage text.
pub(crate) fn parse_offer(sdp: &str) -> Result<SdpOffer, SfuError> {
    check_size(sdp)?;
    SdpOffer::from_sdp_string(sdp).map_err(|e| unparsable(sdp, e))
}

/// Parses a remote answer, refusing oversized or garbage text.
pub(crate) fn parse_answer(sdp: &str) -> Result<SdpAnswer, SfuError> {
    check_size(sdp)?;
    SdpAnswer::from_sdp_string(sdp).map_err(|e| unparsable(sdp, e))
}

/// Why an SDP does not parse, in our own words: the parser's messages carry
/// its internals (even memory addresses), so they only go to the debug log.
fn unparsable(sdp: &str, err: impl std::fmt::Display) -> SfuError {
    tracing::debug!(error = %err, "SDP did not parse");
    let well_formed =
        |line: &[u8]| line.len() >= 2 && line[0].is_ascii_lowercase() && line[1] == b'=';
    let malformed = sdp
        .lines()
        .position(|line| !line.is_empty() && !well_formed(line.as_bytes()));
    let reason = match malformed {
        _ if !sdp.trim_start().starts_with("v=0") => "it must start with \"v=0\"".to_owned(),
        Some(n) => format!("line {} is not of the form \"x=value\"", n + 1),
        None => "a line holds a value SDP does not allow there (RFC 8866)".to_owned(),
    };
    SfuError::InvalidSdp(format!("the SDP could not be parsed: {reason}"))
}

/// An offer or answer that parsed but cannot be negotiated, in our own
/// words (the detail goes to the debug log).
pub(crate) fn unusable(err: impl std::fmt::Display) -> SfuError {
    tracing::debug!(error = %err, "SDP could not be negotiated");
    SfuError::InvalidSdp(
        "the SDP could not be negotiated: it needs ICE credentials, a DTLS fingerprint \
         and audio or video in Opus, VP8 or H.264"
            .to_owned(),
    )
}

fn check_size(sdp: &str) -> Result<(), SfuError> {
    if sdp.len() > MAX_SDP_BYTES {
        return Err(SfuError::SdpTooLarge);
    }
    Ok(())
}

/// A fresh SFU-side `Rtc`: ICE-lite, RTP mode, codecs Opus, VP8 and H.264
/// only (so a publisher can only pick what every subscriber can receive),
/// with a host candidate per announced address.
pub(crate) fn new_rtc(candidates: &[SocketAddr], now: Instant) -> Rtc {
    build_rtc(candidates, true, now)
}

/// A client's offer (size-checked, parsed) accepted by a fresh SFU-side
/// `Rtc`: the `Rtc` for the new peer and the answer for the client.
pub(crate) fn accept_client_offer(
    candidates: &[SocketAddr],
    offer_sdp: &str,
    now: Instant,
) -> Result<(Rtc, String), SfuError> {
    let offer = parse_offer(offer_sdp)?;
    let mut rtc = new_rtc(candidates, now);
    let answer = rtc.sdp_api().accept_offer(offer).map_err(unusable)?;
    Ok((rtc, answer.to_sdp_string()))
}

/// An upstream's `Rtc`: like [`new_rtc`] but a full ICE agent, since it
/// offers to another SFU that is ICE-lite (RFC 8445 §2.5: a lite agent
/// never sends checks, so the other side must).
pub(crate) fn new_upstream_rtc(candidates: &[SocketAddr], now: Instant) -> Rtc {
    build_rtc(candidates, false, now)
}

fn build_rtc(candidates: &[SocketAddr], ice_lite: bool, now: Instant) -> Rtc {
    let mut rtc = Rtc::builder()
        .set_ice_lite(ice_lite)
        .set_rtp_mode(true)
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .enable_h264(true)
        .build(now);
    for addr in candidates {
        match Candidate::host(*addr, "udp") {
            Ok(candidate) => {
                rtc.add_local_candidate(candidate);
            }
            Err(e) => tracing::warn!(%addr, error = %e, "unusable host candidate"),
        }
    }
    rtc
}

/// The SFU's offer to a subscriber and what completing it needs.
pub(crate) struct SubscriberOffer {
    /// The offer to send.
    pub(crate) offer: SdpOffer,
    /// The state to complete with the subscriber's answer.
    pub(crate) pending: SdpPendingOffer,
    /// The offered m-lines.
    pub(crate) mids: Vec<(Mid, MediaKind)>,
}

/// The SFU's offer to a subscriber: one sendonly audio and one sendonly
/// video m-line.
pub(crate) fn subscriber_offer(rtc: &mut Rtc) -> Result<SubscriberOffer, SfuError> {
    let mut change = rtc.sdp_api();
    let stream = Some(STREAM_ID.to_owned());
    let audio = change.add_media(
        MediaKind::Audio,
        Direction::SendOnly,
        stream.clone(),
        None,
        None,
    );
    let video = change.add_media(MediaKind::Video, Direction::SendOnly, stream, None, None);
    let (offer, pending) = change
        .apply()
        .ok_or_else(|| SfuError::InvalidSdp("no changes to offer".into()))?;
    Ok(SubscriberOffer {
        offer,
        pending,
        mids: vec![(audio, MediaKind::Audio), (video, MediaKind::Video)],
    })
}

/// An upstream's offer to its origin: one recvonly audio and one recvonly
/// video m-line, as a WHEP player offers.
pub(crate) fn upstream_offer(rtc: &mut Rtc) -> Result<SubscriberOffer, SfuError> {
    let mut change = rtc.sdp_api();
    let audio = change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
    let video = change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
    let (offer, pending) = change
        .apply()
        .ok_or_else(|| SfuError::InvalidSdp("no changes to offer".into()))?;
    Ok(SubscriberOffer {
        offer,
        pending,
        mids: vec![(audio, MediaKind::Audio), (video, MediaKind::Video)],
    })
}

/// The lines of an SDP text without their line ends.
fn lines(sdp: &str) -> impl Iterator<Item = &str> {
    sdp.lines().map(|l| l.trim_end_matches('\r'))
}

/// The first `a=ice-ufrag` and `a=ice-pwd` of an SDP (with BUNDLE every
/// m-line carries the same ones).
pub(crate) fn ice_credentials(sdp: &str) -> Option<(String, String)> {
    let find = |prefix: &str| lines(sdp).find_map(|l| l.strip_prefix(prefix).map(str::to_owned));
    Some((find("a=ice-ufrag:")?, find("a=ice-pwd:")?))
}

/// The SDP with new ICE credentials and without candidates: an ICE-restart
/// re-offer of an otherwise unchanged negotiation.
pub(crate) fn with_ice(sdp: &str, ufrag: &str, pwd: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in lines(sdp) {
        if line.starts_with("a=ice-ufrag:") {
            out.push_str("a=ice-ufrag:");
            out.push_str(ufrag);
        } else if line.starts_with("a=ice-pwd:") {
            out.push_str("a=ice-pwd:");
            out.push_str(pwd);
        } else if line.starts_with("a=candidate:")
            || line == "a=end-of-candidates"
            || line.is_empty()
        {
            continue;
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out
}

/// The first m-line's media type and mid.
pub(crate) fn first_media(sdp: &str) -> Option<(String, String)> {
    let mut kind = None;
    for line in lines(sdp) {
        if let Some(m) = line.strip_prefix("m=") {
            if kind.is_some() {
                return None; // An m-line without a mid.
            }
            kind = Some(m.split_whitespace().next().unwrap_or("audio").to_owned());
        } else if let (Some(k), Some(mid)) = (&kind, line.strip_prefix("a=mid:")) {
            return Some((k.clone(), mid.to_owned()));
        }
    }
    None
}

/// Every distinct candidate of an SDP, without the `a=`.
pub(crate) fn candidates(sdp: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for c in lines(sdp).filter_map(|l| l.strip_prefix("a=")) {
        if c.starts_with("candidate:") && !found.iter().any(|f| f == c) {
            found.push(c.to_owned());
        }
    }
    found
}

/// Of the SFU's candidates, the one a client last heard from `remote`
/// most likely reaches again: the same IP, else the same scope (loopback
/// or not), else the first.
pub(crate) fn reachable_candidate(
    candidates: &[String],
    remote: Option<SocketAddr>,
) -> Option<String> {
    let ip = |c: &String| Candidate::from_sdp_string(c).ok().map(|c| c.addr().ip());
    let remote = remote.map(|r| r.ip());
    candidates
        .iter()
        .find(|c| remote.is_some() && ip(c) == remote)
        .or_else(|| {
            candidates.iter().find(|c| {
                matches!((ip(c), remote), (Some(a), Some(b)) if a.is_loopback() == b.is_loopback())
            })
        })
        .or(candidates.first())
        .cloned()
}

impl IceFragment {
    /// Parses an `application/trickle-ice-sdpfrag` body (RFC 8840 §9);
    /// `a=ice-ufrag` and `a=ice-pwd` are required (RFC 9725 §4.3.1 has
    /// clients send them on every PATCH).
    pub fn parse(text: &str) -> Result<Self, SfuError> {
        check_size(text)?;
        let mut fragment = IceFragment::default();
        let mut kind: Option<String> = None;
        for line in lines(text) {
            if let Some(v) = line.strip_prefix("a=ice-ufrag:") {
                fragment.ufrag = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("a=ice-pwd:") {
                fragment.pwd = v.trim().to_owned();
            } else if let Some(c) = line.strip_prefix("a=")
                && c.starts_with("candidate:")
            {
                fragment.candidates.push(c.trim().to_owned());
            } else if line == "a=end-of-candidates" {
                fragment.end_of_candidates = true;
            } else if let Some(m) = line.strip_prefix("m=") {
                kind = m.split_whitespace().next().map(str::to_owned);
            } else if let (Some(mid), None, Some(k)) =
                (line.strip_prefix("a=mid:"), &fragment.media, &kind)
            {
                fragment.media = Some((k.clone(), mid.trim().to_owned()));
            }
        }
        if fragment.ufrag.is_empty() || fragment.pwd.is_empty() {
            return Err(SfuError::InvalidSdp(
                "the fragment needs a=ice-ufrag and a=ice-pwd".into(),
            ));
        }
        Ok(fragment)
    }

    /// The fragment as `application/trickle-ice-sdpfrag` text, in the shape
    /// RFC 9725 §4.3.3 shows for an ICE-restart answer (the SFU is
    /// ICE-lite, so it says so).
    pub fn to_sdpfrag(&self) -> String {
        let mut out = format!(
            "a=ice-lite\r\na=ice-ufrag:{}\r\na=ice-pwd:{}\r\n",
            self.ufrag, self.pwd
        );
        if let Some((kind, mid)) = &self.media {
            out.push_str(&format!(
                "m={kind} 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:{mid}\r\n"
            ));
        }
        for c in &self.candidates {
            out.push_str(&format!("a={c}\r\n"));
        }
        if self.end_of_candidates {
            out.push_str("a=end-of-candidates\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_oversized_sdp_are_errors() {
        assert!(matches!(
            parse_offer("hello world"),
            Err(SfuError::InvalidSdp(_))
        ));
        assert!(matches!(parse_answer(""), Err(SfuError::InvalidSdp(_))));
        // Our own words, never the parser's internals.
        let Err(SfuError::InvalidSdp(reason)) =
            parse_offer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nbogus\r\n")
        else {
            panic!("garbage parsed")
        };
        assert!(reason.contains("line 3"), "{reason}");
        assert!(
            !reason.contains("Pointer") && !reason.contains("0x"),
            "{reason}"
        );
        let big = "v=0\r\n".repeat(MAX_SDP_BYTES);
        assert!(matches!(parse_offer(&big), Err(SfuError::SdpTooLarge)));
    }

    #[test]
    fn subscriber_offer_has_sendonly_audio_and_video() {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut rtc = new_rtc(&[addr], Instant::now());
        let offer = subscriber_offer(&mut rtc).unwrap();
        let text = offer.offer.to_sdp_string();
        assert_eq!(offer.mids.len(), 2);
        assert!(text.contains("m=audio"), "{text}");
        assert!(text.contains("m=video"), "{text}");
        assert_eq!(text.matches("a=sendonly").count(), 2, "{text}");
        assert!(text.contains("a=ice-lite"), "{text}");
        assert!(text.contains("127.0.0.1 4000"), "{text}");
        assert!(text.contains("VP8") && text.contains("H264") && text.contains("opus"));
        assert!(!text.contains("VP9") && !text.contains("AV1"), "{text}");
    }

    const FRAG: &str = "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n\
        a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n\
        a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2\r\n\
        a=end-of-candidates\r\n";

    #[test]
    fn a_trickle_fragment_parses_into_credentials_and_candidates() {
        let f = IceFragment::parse(FRAG).unwrap();
        assert_eq!(
            (f.ufrag.as_str(), f.pwd.as_str()),
            ("EsAw", "P2uYro0UCOQ4zxjKXaWCBui1")
        );
        assert_eq!(f.media, Some(("audio".into(), "0".into())));
        assert_eq!(f.candidates.len(), 2);
        assert!(f.candidates[0].starts_with("candidate:1387637174 1 udp"));
        assert!(f.end_of_candidates);
        for c in &f.candidates {
            str0m::Candidate::from_sdp_string(c).unwrap();
        }
        // And back: what a client (RFC 8840) reads.
        let again = IceFragment::parse(&f.to_sdpfrag()).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn a_fragment_without_credentials_is_refused() {
        assert!(matches!(
            IceFragment::parse("a=candidate:1 1 udp 1 192.0.2.1 1 typ host\r\n"),
            Err(SfuError::InvalidSdp(_))
        ));
        let big = "a=x\r\n".repeat(MAX_SDP_BYTES);
        assert!(matches!(
            IceFragment::parse(&big),
            Err(SfuError::SdpTooLarge)
        ));
    }

    #[test]
    fn a_restart_offer_changes_only_the_ice_lines() {
        let offer = "v=0\r\na=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:old\r\n\
            a=ice-pwd:oldpwd\r\na=mid:0\r\na=candidate:1 1 udp 1 192.0.2.1 1 typ host\r\n\
            a=end-of-candidates\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:old\r\na=ice-pwd:oldpwd\r\na=mid:1\r\n";
        let new = with_ice(offer, "nu", "npwd");
        assert_eq!(
            ice_credentials(offer),
            Some(("old".into(), "oldpwd".into()))
        );
        assert_eq!(ice_credentials(&new), Some(("nu".into(), "npwd".into())));
        assert!(!new.contains("old") && !new.contains("candidate"), "{new}");
        assert_eq!(new.matches("a=ice-ufrag:nu\r\n").count(), 2);
        assert!(new.contains("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n") && new.contains("a=mid:1\r\n"));
        assert_eq!(first_media(offer), Some(("audio".into(), "0".into())));
        assert_eq!(candidates(offer).len(), 1);
    }

    #[test]
    fn the_candidate_a_client_reaches_is_the_one_on_its_side() {
        let ours = vec![
            "candidate:1 1 udp 2130706175 10.0.0.5 8189 typ host".to_owned(),
            "candidate:2 1 udp 2130706175 127.0.0.1 8189 typ host".to_owned(),
        ];
        let pick = |remote: &str| reachable_candidate(&ours, remote.parse().ok());
        assert_eq!(pick("10.0.0.5:5000").as_ref(), Some(&ours[0]));
        assert_eq!(
            pick("127.0.0.1:40001").as_ref(),
            Some(&ours[1]),
            "a relay on this host"
        );
        assert_eq!(
            pick("203.0.113.9:5000").as_ref(),
            Some(&ours[0]),
            "any other: not loopback"
        );
        assert_eq!(pick("nothing").as_ref(), Some(&ours[0]));
        assert_eq!(reachable_candidate(&[], None), None);
    }
}
