//! Who may publish and subscribe, and which browser origins may ask.
//!
//! - **Tokens.** With a static token or a JWT secret configured, publishing
//!   needs `Authorization: Bearer <token>`, and subscribing to a private
//!   channel needs a token too: by that header, by the [`COOKIE`] cookie, or
//!   by `?access_token=` (EventSource cannot send headers). The static token
//!   may do everything; a JWT (HS256, claims read by
//!   [`pushwire_core::token`]) may publish and subscribe to the channels its
//!   `pushwire.publish` / `pushwire.subscribe` patterns match, until `exp`.
//!   Missing or bad tokens are 401 (with `WWW-Authenticate: Bearer`), a good
//!   token for another channel 403. No refusal quotes a token.
//! - **CORS.** A request whose `Origin` is the server itself, or in the
//!   allow-list, gets the `Access-Control-*` headers; another origin is
//!   refused with 403 (so a page elsewhere cannot publish with a visitor's
//!   cookies). Preflights are answered whole.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use hmac::{Hmac, Mac};
use once_cell::race::OnceBox;
use pushwire_core::token::{Claims, Token, pattern_matches};
use sha2::Sha256;

use crate::bindings::{Refusal, Request, Settings};
use crate::policy::{header, query_param, refuse};

/// The cookie a browser may carry a subscribe token in.
pub const COOKIE: &str = "pushwire_token";

/// The query parameter a subscribe token may travel in (RFC 6750 §2.3).
pub const QUERY_PARAM: &str = "access_token";

/// The headers a cross-origin request may send.
pub const CORS_ALLOW_HEADERS: &str =
    "authorization, content-type, last-event-id, cache-control, x-pushwire-event";

/// The methods a cross-origin request may use.
pub const CORS_ALLOW_METHODS: &str = "GET, POST, PUT, OPTIONS";

/// Response headers a cross-origin script may read.
pub const CORS_EXPOSE_HEADERS: &str = "retry-after, www-authenticate";

/// Seconds a browser may cache a preflight answer.
pub const CORS_MAX_AGE_SECS: u32 = 600;

/// This instance's policy, set once by `configure`.
static INSTALLED: OnceBox<Policy> = OnceBox::new();

/// Check `settings` and make them this instance's policy (the `configure` export).
///
/// # Errors
/// A sentence naming a wrong setting, or saying the instance was configured already.
pub fn install(settings: Settings) -> Result<(), String> {
    let policy = Policy::new(settings)?;
    INSTALLED
        .set(Box::new(policy))
        .map_err(|_| "this edge instance was configured already".to_owned())
}

/// This instance's policy: the one `configure` installed, else open (no
/// tokens, same-origin only).
pub fn installed() -> &'static Policy {
    INSTALLED.get_or_init(|| Box::new(Policy::default()))
}

/// The settings of one instance, checked.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    auth_token: Option<String>,
    jwt_secret: Option<Vec<u8>>,
    private_channels: Vec<String>,
    cors_origins: Vec<String>,
    cors_credentials: bool,
}

/// What a verified token may do.
enum Grant {
    /// The static token: everything.
    Everything,
    /// A JWT: what its claims say.
    Claims(Claims),
}

impl Grant {
    fn may_publish(&self, channel: &str) -> bool {
        match self {
            Self::Everything => true,
            Self::Claims(claims) => claims.may_publish(channel),
        }
    }

    fn may_subscribe(&self, channel: &str) -> bool {
        match self {
            Self::Everything => true,
            Self::Claims(claims) => claims.may_subscribe(channel),
        }
    }
}

impl Policy {
    /// Check `settings`: tokens and secrets must not be empty, patterns must
    /// be channel patterns, origins must be `scheme://host[:port]` or `*`.
    ///
    /// # Errors
    /// A sentence naming the wrong setting.
    pub fn new(settings: Settings) -> Result<Self, String> {
        if settings.auth_token.as_deref() == Some("") {
            return Err("auth_token is empty: set a long random string, or leave it out".into());
        }
        if let Some(token) = &settings.auth_token
            && (token.contains(char::is_whitespace) || token.contains(','))
        {
            return Err(
                "auth_token must not contain spaces or commas (it travels in an HTTP header)"
                    .into(),
            );
        }
        if settings.jwt_secret.as_deref().is_some_and(<[u8]>::is_empty) {
            return Err(
                "jwt_secret is empty: set the HS256 key your tokens are signed with".into(),
            );
        }
        let has_auth = settings.auth_token.is_some() || settings.jwt_secret.is_some();
        if !settings.private_channels.is_empty() && !has_auth {
            return Err(
                "private_channels needs auth_token or jwt_secret: nobody could subscribe to them"
                    .into(),
            );
        }
        for pattern in &settings.private_channels {
            let name = pattern.strip_suffix('*').unwrap_or(pattern);
            if name.contains('*')
                || (!name.is_empty() && crate::policy::check_channel(name).is_err())
            {
                return Err(format!(
                    "private_channels: {pattern:?} is not a channel pattern (a name, a prefix followed by *, or *)"
                ));
            }
        }
        for origin in &settings.cors_origins {
            if origin != "*" && !is_origin(origin) {
                return Err(format!(
                    "cors_origins: {origin:?} is not an origin: write scheme://host[:port], e.g. https://app.example, or *"
                ));
            }
        }
        if settings.cors_credentials && settings.cors_origins.iter().any(|o| o == "*") {
            return Err(
                "cors_credentials cannot go with cors_origins = [\"*\"] (browsers refuse it, and it would let any site use visitors' cookies): list the origins"
                    .into(),
            );
        }
        Ok(Self {
            auth_token: settings.auth_token,
            jwt_secret: settings.jwt_secret,
            private_channels: settings.private_channels,
            cors_origins: settings.cors_origins,
            cors_credentials: settings.cors_credentials,
        })
    }

    /// Whether publishing needs a token (a token or secret is configured).
    pub fn requires_auth(&self) -> bool {
        self.auth_token.is_some() || self.jwt_secret.is_some()
    }

    /// Whether subscribers of `channel` must present a token.
    pub fn is_private(&self, channel: &str) -> bool {
        self.private_channels
            .iter()
            .any(|pattern| pattern_matches(pattern, channel))
    }

    /// Check that `req` may subscribe to `channels`.
    ///
    /// # Errors
    /// 401 when a private channel is named without a token or the token is
    /// bad (expired, wrong signature, malformed); 403 when a good token does
    /// not cover a private channel.
    pub fn authorize_subscribe(&self, req: &Request, channels: &[String]) -> Result<(), Refusal> {
        let presented = subscribe_token(req)?;
        let Some(private) = channels.iter().find(|c| self.is_private(c)) else {
            // Public channels: a token changes nothing, but a broken one is
            // still worth saying so (it is likely a mistake).
            if let Some(token) = presented {
                self.verify(&token, req.unix_time)?;
            }
            return Ok(());
        };
        let Some(token) = presented else {
            return Err(unauthorized(
                None,
                format!(
                    "Channel {private:?} is private: send a token (Authorization: Bearer, the {COOKIE} cookie, or ?{QUERY_PARAM}=)."
                ),
            ));
        };
        let grant = self.verify(&token, req.unix_time)?;
        for channel in channels.iter().filter(|c| self.is_private(c)) {
            if !grant.may_subscribe(channel) {
                return Err(refuse(
                    403,
                    format!(
                        "This token may not subscribe to channel {channel:?}: its pushwire.subscribe claim does not match it."
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Check that `req` may publish to `channel`.
    ///
    /// # Errors
    /// 401 without `Authorization: Bearer` or with a bad token; 403 when a
    /// good token does not cover `channel`.
    pub fn authorize_publish(&self, req: &Request, channel: &str) -> Result<(), Refusal> {
        if !self.requires_auth() {
            return Ok(());
        }
        let Some(token) = bearer(req)? else {
            return Err(unauthorized(
                None,
                "Publishing needs a token: send Authorization: Bearer <token>.".to_owned(),
            ));
        };
        let grant = self.verify(token, req.unix_time)?;
        if grant.may_publish(channel) {
            Ok(())
        } else {
            Err(refuse(
                403,
                format!(
                    "This token may not publish to channel {channel:?}: its pushwire.publish claim does not match it."
                ),
            ))
        }
    }

    /// The CORS headers for `req` (none without `Origin` or from the server
    /// itself), or the whole preflight answer for `OPTIONS`.
    ///
    /// # Errors
    /// 403 for an origin that is neither the server's own nor allowed.
    pub fn cors(&self, req: &Request) -> Result<Vec<(String, String)>, Refusal> {
        let Some(origin) = header(req, "origin") else {
            return Ok(Vec::new());
        };
        let listed = self.cors_origins.iter().any(|o| o == "*" || o == origin);
        if !listed {
            if is_same_origin(origin, header(req, "host")) {
                return Ok(Vec::new());
            }
            return Err(refuse(
                403,
                format!(
                    "Origin {origin:?} may not call this server from a browser: add it to cors_origins (PUSHWIRE_CORS_ORIGINS)."
                ),
            ));
        }
        let mut headers = Vec::with_capacity(6);
        let any = !self.cors_credentials && self.cors_origins.iter().any(|o| o == "*");
        headers.push((
            "access-control-allow-origin".to_owned(),
            if any { "*" } else { origin }.to_owned(),
        ));
        if !any {
            headers.push(("vary".to_owned(), "origin".to_owned()));
        }
        if self.cors_credentials {
            headers.push((
                "access-control-allow-credentials".to_owned(),
                "true".to_owned(),
            ));
        }
        if req.method == "OPTIONS" {
            headers.push((
                "access-control-allow-methods".to_owned(),
                CORS_ALLOW_METHODS.to_owned(),
            ));
            headers.push((
                "access-control-allow-headers".to_owned(),
                CORS_ALLOW_HEADERS.to_owned(),
            ));
            headers.push((
                "access-control-max-age".to_owned(),
                format!("{CORS_MAX_AGE_SECS}"),
            ));
        } else {
            headers.push((
                "access-control-expose-headers".to_owned(),
                CORS_EXPOSE_HEADERS.to_owned(),
            ));
        }
        Ok(headers)
    }

    /// Verify `token` at `now`: the static token, else a JWT with a good
    /// HS256 signature whose `exp`/`nbf` allow `now`.
    fn verify(&self, token: &str, now: u64) -> Result<Grant, Refusal> {
        if let Some(static_token) = &self.auth_token
            && constant_time_eq(static_token.as_bytes(), token.as_bytes())
        {
            return Ok(Grant::Everything);
        }
        let Some(secret) = &self.jwt_secret else {
            return Err(unauthorized(
                Some("invalid_token"),
                if self.requires_auth() {
                    "The token is not the server's token.".to_owned()
                } else {
                    "A token was sent but this server has no auth_token or jwt_secret: leave the token out.".to_owned()
                },
            ));
        };
        let jwt = Token::decode(token).map_err(|err| {
            unauthorized(
                Some("invalid_token"),
                format!("The token cannot be used: {err}."),
            )
        })?;
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return Err(unauthorized(
                Some("invalid_token"),
                "The server's jwt_secret cannot key HMAC.".to_owned(),
            ));
        };
        mac.update(jwt.signing_input());
        if mac.verify_slice(jwt.signature()).is_err() {
            return Err(unauthorized(
                Some("invalid_token"),
                "The token's signature does not match: it was not signed (HS256) with this server's jwt_secret.".to_owned(),
            ));
        }
        let claims = jwt.claims();
        if !claims.is_current(now) {
            return Err(unauthorized(
                Some("invalid_token"),
                match (claims.expires, claims.not_before) {
                    (Some(exp), _) if now >= exp => format!(
                        "The token expired {} s ago (exp {exp}): get a new one.",
                        now - exp
                    ),
                    (_, Some(nbf)) => {
                        format!("The token is not valid before {nbf} (now {now}).")
                    }
                    _ => "The token is not valid now.".to_owned(),
                },
            ));
        }
        Ok(Grant::Claims(claims.clone()))
    }
}

/// The token in `Authorization: Bearer …`, if any.
fn bearer(req: &Request) -> Result<Option<&str>, Refusal> {
    let Some(value) = header(req, "authorization") else {
        return Ok(None);
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized(
            Some("invalid_request"),
            "The Authorization header must be Bearer <token>.".to_owned(),
        ));
    }
    Ok(Some(token.trim()))
}

/// The token of a subscribe request: header, else cookie, else query.
fn subscribe_token(req: &Request) -> Result<Option<String>, Refusal> {
    if let Some(token) = bearer(req)? {
        return Ok(Some(token.to_owned()));
    }
    let from_cookie = req
        .headers
        .iter()
        .filter(|(name, _)| name == "cookie")
        .flat_map(|(_, value)| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned());
    if let Some(token) = from_cookie.filter(|t| !t.is_empty()) {
        return Ok(Some(token));
    }
    Ok(query_param(&req.query, QUERY_PARAM)?.filter(|t| !t.is_empty()))
}

fn unauthorized(error: Option<&str>, message: String) -> Refusal {
    let mut challenge = String::from("Bearer realm=\"pushwire\"");
    if let Some(error) = error {
        challenge.push_str(", error=\"");
        challenge.push_str(error);
        challenge.push('"');
    }
    let mut refusal = refuse(401, message);
    refusal
        .headers
        .push(("www-authenticate".to_owned(), challenge));
    refusal
}

/// `scheme://host[:port]` with nothing after it.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' ', '*'])
}

/// Whether `origin` names the host the request was sent to.
fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let (Some((_, origin_host)), Some(host)) = (origin.split_once("://"), host) else {
        return false;
    };
    origin_host.eq_ignore_ascii_case(host)
}

/// Compare without leaking where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
