//! Any bytes as a Socket.IO event payload: parsing into every signaling
//! request type must answer Ok or a `validation_failed` refusal, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamshare::realtime::{chat, media, payload, rooms};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let as_data = || Ok::<_, String>(value.clone());
    for result in [
        payload::<rooms::RoomRef>(as_data()).err(),
        payload::<chat::SendReq>(as_data()).err(),
        payload::<chat::DeleteReq>(as_data()).err(),
        payload::<chat::TargetReq>(as_data()).err(),
        payload::<media::SdpReq>(as_data()).err(),
        payload::<media::RoomReq>(as_data()).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(result.code(), "validation_failed");
    }
});
