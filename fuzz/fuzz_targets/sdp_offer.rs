//! Any text as a publisher's SDP offer: the SFU answers or refuses with an
//! error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = std::str::from_utf8(data) {
        let _ = streamshare_sfu::answer_offer_offline(sdp);
    }
});
