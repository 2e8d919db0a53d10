//! Fuzzing entry points, wired into cargo-fuzz targets by `fuzz/` and run
//! over random inputs by the unit tests.
//!
//! - [`fuzz_decode`]: arbitrary bytes into the [`Message`] and [`Record`]
//!   decoders; whatever decodes must re-encode to the same value.

use crate::message::{Message, Record};
use dwcp_core::fuzz::decode_roundtrip;

/// Decodes arbitrary bytes as a message and as a record; must never panic,
/// and decode∘encode must be the identity on what decodes.
pub fn fuzz_decode(data: &[u8]) {
    if let Some(msg) = decode_roundtrip::<Message>(data) {
        let _ = dwcp_core::WireMessage::kind(&msg);
        let _ = dwcp_core::WireMessage::wire_size(&msg);
    }
    let _ = decode_roundtrip::<Record>(data);
}
