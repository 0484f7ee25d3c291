//! The built-in edge's code (`pushwire-edge`) called natively, with the
//! host's copies of the WIT types, for comparing it with the component
//! (`edge_isolation.rs`) and for measuring what the sandbox costs
//! (`benches/edge_call.rs`). Test and benchmark code only: the host itself
//! always runs the edge through wasmtime.
//!
//! The conversions copy the values, as the canonical ABI does.
#![allow(dead_code, unreachable_pub, missing_docs)]

use pushwire_host::edge::{
    Message, Publish, Refusal, Request, ResponseHead, Settings, Subscription, Transport,
};

/// The built-in edge's policy, linked natively.
#[derive(Default)]
pub struct NativeEdge {
    policy: pushwire_edge::Policy,
}

impl NativeEdge {
    /// An edge with `settings`, or the sentence it refuses them with.
    pub fn with_settings(settings: &Settings) -> Result<Self, String> {
        Ok(Self {
            policy: pushwire_edge::Policy::new(self::settings(settings))?,
        })
    }

    pub fn cors(&self, req: &Request) -> Result<Vec<(String, String)>, Refusal> {
        self.policy.cors(&request(req)).map_err(refusal)
    }

    pub fn route(&self, req: &Request) -> Result<Subscription, Refusal> {
        pushwire_edge::route(&self.policy, &request(req))
            .map(subscription_out)
            .map_err(refusal)
    }

    pub fn open(&self, sub: &Subscription) -> ResponseHead {
        response_head(pushwire_edge::open(&subscription_in(sub)))
    }

    pub fn frame(&self, transport: Transport, msg: &Message) -> Result<Vec<u8>, String> {
        pushwire_edge::frame(transport_in(transport), &message(msg))
    }

    pub fn frame_reply(
        &self,
        transport: Transport,
        cursor: &str,
        msgs: &[Message],
    ) -> Result<Vec<u8>, String> {
        let msgs: Vec<_> = msgs.iter().map(message).collect();
        pushwire_edge::frame_reply(transport_in(transport), cursor, &msgs)
    }

    pub fn heartbeat(&self, transport: Transport) -> Vec<u8> {
        pushwire_edge::heartbeat(transport_in(transport))
    }

    pub fn end(&self, transport: Transport) -> Vec<u8> {
        pushwire_edge::end(transport_in(transport))
    }

    pub fn accept_publish(&self, req: &Request, body_len: u64) -> Result<Publish, Refusal> {
        pushwire_edge::accept_publish(&self.policy, &request(req), body_len)
            .map(|publish| Publish {
                channel: publish.channel,
                event: publish.event,
            })
            .map_err(refusal)
    }
}

fn transport_in(transport: Transport) -> pushwire_edge::Transport {
    match transport {
        Transport::Sse => pushwire_edge::Transport::Sse,
        Transport::Stream => pushwire_edge::Transport::Stream,
        Transport::Multipart => pushwire_edge::Transport::Multipart,
        Transport::Iframe => pushwire_edge::Transport::Iframe,
        Transport::Longpoll => pushwire_edge::Transport::Longpoll,
        Transport::Poll => pushwire_edge::Transport::Poll,
    }
}

fn transport_out(transport: pushwire_edge::Transport) -> Transport {
    match transport {
        pushwire_edge::Transport::Sse => Transport::Sse,
        pushwire_edge::Transport::Stream => Transport::Stream,
        pushwire_edge::Transport::Multipart => Transport::Multipart,
        pushwire_edge::Transport::Iframe => Transport::Iframe,
        pushwire_edge::Transport::Longpoll => Transport::Longpoll,
        pushwire_edge::Transport::Poll => Transport::Poll,
    }
}

fn request(req: &Request) -> pushwire_edge::Request {
    pushwire_edge::Request {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        unix_time: req.unix_time,
    }
}

fn settings(settings: &Settings) -> pushwire_edge::Settings {
    pushwire_edge::Settings {
        auth_token: settings.auth_token.clone(),
        jwt_secret: settings.jwt_secret.clone(),
        private_channels: settings.private_channels.clone(),
        cors_origins: settings.cors_origins.clone(),
        cors_credentials: settings.cors_credentials,
    }
}

fn refusal(refusal: pushwire_edge::Refusal) -> Refusal {
    Refusal {
        status: refusal.status,
        message: refusal.message,
        headers: refusal.headers,
    }
}

fn subscription_out(sub: pushwire_edge::Subscription) -> Subscription {
    Subscription {
        channels: sub.channels,
        transport: transport_out(sub.transport),
        cursor: sub.cursor,
        callback: sub.callback,
        min_interval_ms: sub.min_interval_ms,
    }
}

fn subscription_in(sub: &Subscription) -> pushwire_edge::Subscription {
    pushwire_edge::Subscription {
        channels: sub.channels.clone(),
        transport: transport_in(sub.transport),
        cursor: sub.cursor.clone(),
        callback: sub.callback.clone(),
        min_interval_ms: sub.min_interval_ms,
    }
}

fn response_head(head: pushwire_edge::ResponseHead) -> ResponseHead {
    ResponseHead {
        status: head.status,
        headers: head.headers,
        preamble: head.preamble,
        byte_budget: head.byte_budget,
        repeat_last_ms: head.repeat_last_ms,
    }
}

fn message(msg: &Message) -> pushwire_edge::Message {
    pushwire_edge::Message {
        id: msg.id.clone(),
        channel: msg.channel.clone(),
        event: msg.event.clone(),
        data: msg.data.clone(),
    }
}
