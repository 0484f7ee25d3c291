//! Fuzz body for `pushwire_core::wire`: decoding never panics, and whatever
//! decodes re-encodes to JSON that decodes to the same value.

use pushwire_core::wire::{self, WireMessageRef};

/// Decode `data` as a wire message and as a long-poll reply; round-trip what decodes.
pub fn run(data: &[u8]) {
    if let Ok(message) = wire::decode_message(data) {
        let mut json = Vec::new();
        message.encode_json(&mut json);
        assert_eq!(wire::decode_message(&json), Ok(message.clone()));
        // The canonical form is a fixed point.
        let mut again = Vec::new();
        wire::decode_message(&json).unwrap().encode_json(&mut again);
        assert_eq!(again, json);
    }
    if let Ok(reply) = wire::decode_longpoll_reply(data) {
        let mut json = Vec::new();
        wire::encode_longpoll_reply(
            &reply.cursor,
            reply.messages.iter().map(WireMessageRef::from),
            &mut json,
        );
        assert_eq!(wire::decode_longpoll_reply(&json), Ok(reply));
    }
    let tight = wire::WireConfig { max_depth: 2 };
    let _ = tight.decode_message(data);
    let _ = tight.decode_longpoll_reply(data);
}
