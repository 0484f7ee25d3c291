/// Read arbitrary bytes as an access token: never panics; whatever decodes
/// has its signing input as a prefix of the token, and base64url text
/// round-trips through the decoder. The bytes are also tried as the claims
/// of an otherwise valid token, so the claims reader sees hostile JSON.
pub fn run(data: &[u8]) {
    use pushwire_core::token::{Token, base64url_decode, base64url_encode};

    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = Token::decode(text) {
        assert!(text.as_bytes().starts_with(token.signing_input()));
    }
    if let Some(bytes) = base64url_decode(text) {
        let mut again = String::new();
        base64url_encode(&bytes, &mut again);
        assert_eq!(base64url_decode(&again), Some(bytes));
    }
    let mut token = String::new();
    base64url_encode(br#"{"alg":"HS256"}"#, &mut token);
    token.push('.');
    base64url_encode(data, &mut token);
    token.push('.');
    if let Ok(decoded) = Token::decode(&token) {
        let claims = decoded.claims();
        let _ = claims.may_publish("chat") || claims.may_subscribe("chat");
    }
}
