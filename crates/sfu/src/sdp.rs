//! Owns the SDP edge: size limits, parsing of untrusted SDP text into
//! str0m values, and how every SFU-side `Rtc` is configured (ICE-lite, RTP
//! mode, exactly Opus + VP8 + H.264, host candidates).

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::{Candidate, Rtc};

use crate::{MAX_SDP_BYTES, SfuError};

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
pub(crate) fn new_rtc(candidates: &[SocketAddr]) -> Rtc {
    let mut rtc = Rtc::builder()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .enable_h264(true)
        .build(Instant::now());
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
        let mut rtc = new_rtc(&[addr]);
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
}
