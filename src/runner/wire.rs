//! The raw frames kept for `--wire`, each labelled as the tutor's own plumbing (fences, round
//! trips) or as part of the scenario.

use super::Session;
use crate::client::{self, protocol::EnginePacket, protocol::SocketPacket};
use crate::server::FENCE_EVENT;
use crate::trace::WireLine;

impl Session<'_> {
    pub(super) fn take_wire(&mut self) -> Vec<WireLine> {
        let mut lines = std::mem::take(&mut self.departed_wire);
        let probed = self.probe_wire.take();
        for named in &self.clients {
            let mut frames = match &probed {
                Some((who, frames)) if *who == named.name => frames.clone(),
                _ => Vec::new(),
            };
            frames.extend(named.client.take_wire());
            for frame in frames {
                // Only our own server sends fences; whatever someone else's server sends is
                // part of what is being checked, whatever its name.
                let plumbing = (self.is_ours() && is_fence(&frame.text))
                    || is_round_trip(&frame.text)
                    || is_relay_fence(&frame.text);
                lines.push(WireLine {
                    client: named.name.clone(),
                    direction: frame.direction,
                    frame: frame.text,
                    plumbing,
                });
            }
        }
        lines
    }
}

/// Is this WebSocket frame one of the tutor's fences? The frame is decoded with the codec, as the
/// client decodes it, rather than searched for the marker's name: a chat message whose text
/// mentions `tutor:fence` is still a chat message, and must not be labelled plumbing.
pub(super) fn is_fence(frame: &str) -> bool {
    let Ok(EnginePacket::Message(inner)) = EnginePacket::decode(frame) else {
        return false;
    };
    matches!(SocketPacket::decode(&inner), Ok(SocketPacket::Event { name, .. }) if name == FENCE_EVENT)
}

/// Is this frame a relay fence (`relay.rs`): the tutor's marker sent through the stage's
/// `io.emit`, or one of its copies coming back from either server?
fn is_relay_fence(frame: &str) -> bool {
    let Ok(EnginePacket::Message(inner)) = EnginePacket::decode(frame) else {
        return false;
    };
    matches!(SocketPacket::decode(&inner), Ok(SocketPacket::Event { args, .. }) if super::relay::relay_number(&args).is_some())
}

/// Is this frame part of a round-trip fence (`round_trip.rs`): our CONNECT for a fence
/// namespace, the server's answer, or our leaving it? Those frames are the tutor's, whoever's
/// server answers them.
fn is_round_trip(frame: &str) -> bool {
    let Ok(EnginePacket::Message(inner)) = EnginePacket::decode(frame) else {
        return false;
    };
    let nsp = match SocketPacket::decode(&inner) {
        Ok(SocketPacket::Connect { nsp, .. })
        | Ok(SocketPacket::ConnectError { nsp, .. })
        | Ok(SocketPacket::Disconnect { nsp }) => nsp,
        _ => return false,
    };
    nsp.starts_with(client::connection::ROUND_TRIP_NAMESPACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_recognised_by_its_event_name_not_by_its_text() {
        assert!(is_fence(r#"42["tutor:fence",3]"#));
        // The text of a chat message may mention the marker; it is still a chat message.
        assert!(!is_fence(r#"42["chat message","tutor:fence"]"#));
        assert!(!is_fence(r#"42["chat message","42[\"tutor:fence\",1]"]"#));
        // Other packets that carry the text somewhere are not fences either.
        assert!(!is_fence(r#"431["tutor:fence"]"#));
        assert!(!is_fence("2tutor:fence"));
        assert!(!is_fence(
            r#"0{"sid":"tutor:fence","pingInterval":1,"pingTimeout":1}"#
        ));
        assert!(!is_fence("not a frame tutor:fence"));
    }

    #[test]
    fn round_trip_frames_are_recognised_by_their_namespace() {
        assert!(is_round_trip("40/tutor-fence-1,"));
        assert!(is_round_trip(
            r#"44/tutor-fence-1,{"message":"Invalid namespace"}"#
        ));
        assert!(!is_round_trip(r#"40{"sid":"x"}"#));
        assert!(!is_round_trip(r#"42["chat message","40/tutor-fence-1,"]"#));
    }

    #[test]
    fn relay_fence_frames_are_recognised_by_their_marker() {
        assert!(is_relay_fence(r#"42["chat message","tutor-relay-fence-4"]"#));
        assert!(!is_relay_fence(r#"42["chat message","hello, everyone"]"#));
        assert!(!is_relay_fence(r#"40/tutor-fence-1,"#));
    }
}
