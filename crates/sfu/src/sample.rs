//! Owns the media samples test publishers send: shapes that str0m and the
//! SFU treat like the real thing, with filler nobody decodes.

/// An Opus-sized 20 ms audio frame (TOC byte for SILK-only 20 ms, then
/// filler: str0m does not look inside Opus payloads).
pub(crate) fn opus_frame(n: u64) -> Vec<u8> {
    let mut payload = vec![(n & 0xff) as u8; 80];
    payload[0] = 0x78;
    payload
}

/// A VP8-shaped frame (RFC 6386 §9.1 frame tag; keyframes carry the start
/// code and a 320x240 size). The rest is filler: nobody decodes it.
pub(crate) fn vp8_frame(key: bool, n: u64) -> Vec<u8> {
    let len = if key { 3000 } else { 700 };
    let mut frame = vec![(n & 0xff) as u8; len];
    let first_partition: u32 = 100;
    // Bit 0: 0 = keyframe; bits 1-3: version 0; bit 4: show_frame.
    let tag = u32::from(!key) | (1 << 4) | (first_partition << 5);
    frame[..3].copy_from_slice(&tag.to_le_bytes()[..3]);
    if key {
        frame[3..6].copy_from_slice(&[0x9d, 0x01, 0x2a]);
        frame[6..8].copy_from_slice(&320u16.to_le_bytes());
        frame[8..10].copy_from_slice(&240u16.to_le_bytes());
    }
    frame
}
