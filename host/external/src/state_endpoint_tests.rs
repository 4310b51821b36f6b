use super::*;
use tributary_core::state::MemoryStateStore;

/// (status, body) of one request to the endpoint.
fn send(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let token = token.map(str::to_string);
    let body = body.map(str::to_string);
    crate::runtime::run(async move {
        let mut req = reqwest::Client::new().request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("request");
        (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        )
    })
    .expect("runtime")
}

#[test]
fn the_five_operations_under_a_scoped_token() {
    let store = Arc::new(MemoryStateStore::default());
    let ep = StateEndpoint::start(store.clone(), "127.0.0.1:0", None).expect("start");
    let a = ep.issue("rule/r/function/0/f").expect("token");
    let b = ep.issue("rule/r/function/1/f").expect("token");
    let u = |path: &str| format!("{}{path}", ep.url());
    let t = Some(a.token.as_str());
    use reqwest::Method as M;
    assert_eq!(send(M::GET, u("/state/k"), t, None).0, 404);
    assert_eq!(
        send(M::GET, u("/counters/n"), t, None),
        (200, r#"{"value":0}"#.into())
    );
    assert_eq!(
        send(M::POST, u("/counters/n"), t, Some(r#"{"amount":5}"#)),
        (200, r#"{"value":5}"#.into())
    );
    assert_eq!(
        send(M::POST, u("/counters/n"), t, None),
        (200, r#"{"value":6}"#.into()),
        "the amount defaults to 1"
    );
    assert_eq!(
        send(M::PUT, u("/state/k"), t, Some(r#"{"x":[1,"y"]}"#)).0,
        204
    );
    assert_eq!(
        send(M::GET, u("/state/k"), t, None),
        (200, r#"{"value":{"x":[1,"y"]}}"#.into())
    );
    let (status, body) = send(M::POST, u("/counters/k"), t, None);
    assert_eq!(status, 409);
    assert!(body.contains("not_an_integer"), "{body}");
    assert_eq!(send(M::DELETE, u("/state/k"), t, None).0, 204);
    assert_eq!(send(M::GET, u("/state/k"), t, None).0, 404);
    // The store holds it under the token's scope, and the other token sees nothing.
    assert_eq!(store.counter("rule/r/function/0/f", "n"), Ok(6));
    assert_eq!(
        send(M::GET, u("/counters/n"), Some(&b.token), None),
        (200, r#"{"value":0}"#.into())
    );
}

#[test]
fn bad_tokens_and_bodies_are_refused_and_change_nothing() {
    let store = Arc::new(MemoryStateStore::default());
    let ep = StateEndpoint::start(store.clone(), "127.0.0.1:0", None).expect("start");
    let a = ep.issue("s").expect("token");
    let u = |path: &str| format!("{}{path}", ep.url());
    use reqwest::Method as M;
    let (status, body) = send(M::POST, u("/counters/n"), None, None);
    assert_eq!(status, 401);
    assert!(body.contains("missing Authorization"), "{body}");
    assert_eq!(send(M::POST, u("/counters/n"), Some("guess"), None).0, 401);
    let (status, body) = send(M::PUT, u("/state/k"), Some(&a.token), Some("{not json"));
    assert_eq!(status, 400);
    assert!(body.contains("one JSON value"), "{body}");
    let (status, body) = send(
        M::POST,
        u("/counters/n"),
        Some(&a.token),
        Some(r#"{"amount":"two"}"#),
    );
    assert_eq!(status, 400);
    assert!(body.contains("\\\"amount\\\" must be an integer"), "{body}");
    assert_eq!(store.get("s", "k"), Ok(None));
    assert_eq!(store.counter("s", "n"), Ok(0));
    // A dropped instance's token is revoked.
    let token = a.token.clone();
    drop(a);
    assert_eq!(send(M::GET, u("/counters/n"), Some(&token), None).0, 401);
}

#[test]
fn a_busy_address_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let e =
        StateEndpoint::start(Arc::new(MemoryStateStore::default()), &addr, None).expect_err("busy");
    assert!(
        e.to_string().contains(&format!("cannot listen on {addr}")),
        "{e}"
    );
}
