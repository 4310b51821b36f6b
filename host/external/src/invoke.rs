//! Calling a service once: gRPC, REST with a protobuf schema, schemaless REST.

use crate::codec::DynamicCodec;
use crate::http_rule::HttpMapping;
use crate::mapping::{args_to_message, message_to_value};
use prost_reflect::{MessageDescriptor, MethodDescriptor};
use std::time::Duration;
use tributary_core::{json, Object, Value};

/// A failed call; `retry` says whether trying again may help (connection trouble,
/// timeouts, 5xx), as opposed to a bad request or a bad answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    pub message: String,
    pub retry: bool,
}

impl CallError {
    pub fn fatal(message: impl Into<String>) -> Self {
        CallError {
            message: message.into(),
            retry: false,
        }
    }
    pub fn transient(message: impl Into<String>) -> Self {
        CallError {
            message: message.into(),
            retry: true,
        }
    }
}

/// The state headers of one function instance, ready to attach to its calls.
#[derive(Debug)]
pub struct StateHeaders {
    url: http::HeaderValue,
    token: http::HeaderValue,
    /// Keeps the token valid while the instance lives.
    _token: crate::state_endpoint::ScopeToken,
}

impl StateHeaders {
    pub fn new(token: crate::state_endpoint::ScopeToken) -> Result<Self, tributary_core::Error> {
        let bad = |e: http::header::InvalidHeaderValue| {
            tributary_core::Error::internal(format!("state header: {e}"))
        };
        Ok(StateHeaders {
            url: http::HeaderValue::from_str(&token.url).map_err(bad)?,
            token: http::HeaderValue::from_str(&token.token).map_err(bad)?,
            _token: token,
        })
    }

    fn add_to(&self, headers: &mut http::HeaderMap) {
        use crate::state_endpoint::{TOKEN_HEADER, URL_HEADER};
        headers.insert(URL_HEADER, self.url.clone());
        headers.insert(TOKEN_HEADER, self.token.clone());
    }
}

/// How one function reaches its service.
#[derive(Debug, Clone)]
pub enum Invoker {
    Grpc {
        channel: tonic::transport::Channel,
        method: MethodDescriptor,
    },
    Rest {
        client: reqwest::Client,
        base: String,
        headers: reqwest::header::HeaderMap,
        method: MethodDescriptor,
        mapping: HttpMapping,
    },
    Schemaless {
        client: reqwest::Client,
        base: String,
        headers: reqwest::header::HeaderMap,
    },
}

impl Invoker {
    /// One call with `args` (one row's arguments).
    pub async fn call(
        &self,
        args: Vec<Value>,
        timeout: Duration,
        state: Option<&StateHeaders>,
    ) -> Result<Value, CallError> {
        match tokio::time::timeout(timeout, self.call_inner(args, state)).await {
            Ok(r) => r,
            Err(_) => Err(CallError::transient(format!(
                "no answer within {} ms",
                timeout.as_millis()
            ))),
        }
    }

    async fn call_inner(
        &self,
        args: Vec<Value>,
        state: Option<&StateHeaders>,
    ) -> Result<Value, CallError> {
        match self {
            Invoker::Grpc { channel, method } => {
                let msg = args_to_message(&method.input(), &args).map_err(CallError::fatal)?;
                let mut grpc = tonic::client::Grpc::new(channel.clone());
                grpc.ready()
                    .await
                    .map_err(|e| CallError::transient(format!("cannot reach the service: {e}")))?;
                let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
                let path = http::uri::PathAndQuery::try_from(path.as_str())
                    .map_err(|e| CallError::fatal(format!("method path {path}: {e}")))?;
                let mut request = tonic::Request::new(msg);
                if let Some(s) = state {
                    s.add_to(request.metadata_mut().as_mut());
                }
                let resp = grpc
                    .unary(request, path, DynamicCodec::new(method.output()))
                    .await
                    .map_err(|s| {
                        let retry = matches!(
                            s.code(),
                            tonic::Code::Unavailable
                                | tonic::Code::DeadlineExceeded
                                | tonic::Code::ResourceExhausted
                        );
                        CallError {
                            message: format!(
                                "error invoking method {}: {}: {}",
                                method.name(),
                                s.code(),
                                s.message()
                            ),
                            retry,
                        }
                    })?;
                Ok(message_to_value(resp.get_ref()))
            }
            Invoker::Rest {
                client,
                base,
                headers,
                method,
                mapping,
            } => {
                let msg = args_to_message(&method.input(), &args).map_err(CallError::fatal)?;
                let req = mapping.request(&msg).map_err(CallError::fatal)?;
                let (ctype, body) = send(
                    client,
                    req.verb,
                    &format!("{base}{}", req.uri),
                    headers,
                    req.body,
                    state,
                )
                .await?;
                decode_rest(&method.output(), &ctype, &body)
            }
            Invoker::Schemaless {
                client,
                base,
                headers,
            } => {
                let (verb, uri, body) = schemaless_request(&args).map_err(CallError::fatal)?;
                let (ctype, text) =
                    send(client, verb, &format!("{base}{uri}"), headers, body, state).await?;
                if ctype.starts_with("application/json") {
                    json::parse(&text)
                        .map_err(|e| CallError::fatal(format!("invalid JSON answer: {e}")))
                } else {
                    Ok(json::parse(&text).unwrap_or_else(|_| Value::str(&text)))
                }
            }
        }
    }
}

/// `fn("post", "/path", payload…)`: no payload, no body; one, its JSON; more, an array.
pub fn schemaless_request(
    args: &[Value],
) -> Result<(reqwest::Method, String, Option<String>), String> {
    if args.len() < 2 {
        return Err("the parameter count must be at least 2: the HTTP method and the path".into());
    }
    let Value::String(m) = &args[0] else {
        return Err("parameter 1 (the HTTP method) must be a string".into());
    };
    let verb = reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("{m:?} is not an HTTP method"))?;
    let Value::String(uri) = &args[1] else {
        return Err("parameter 2 (the path) must be a string".into());
    };
    let body = match &args[2..] {
        [] => None,
        [one] => Some(json::to_json_string(one)),
        many => Some(json::to_json_string(&Value::array(many.to_vec()))),
    };
    Ok((verb, uri.to_string(), body))
}

async fn send(
    client: &reqwest::Client,
    verb: reqwest::Method,
    url: &str,
    headers: &reqwest::header::HeaderMap,
    body: Option<String>,
    state: Option<&StateHeaders>,
) -> Result<(String, String), CallError> {
    // The configured headers are set over the default content type, as eKuiper does.
    let mut all = reqwest::header::HeaderMap::new();
    all.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    for (k, v) in headers {
        all.insert(k.clone(), v.clone());
    }
    if let Some(s) = state {
        s.add_to(&mut all);
    }
    let mut req = client.request(verb, url).headers(all);
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.map_err(|e| {
        let retry = e.is_connect() || e.is_timeout() || e.is_request();
        CallError {
            message: format!("request to {url} failed: {e}"),
            retry,
        }
    })?;
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp
        .text()
        .await
        .map_err(|e| CallError::transient(format!("reading the answer of {url}: {e}")))?;
    if !status.is_success() {
        return Err(CallError {
            message: format!(
                "{url} answered {status}: {}",
                text.chars().take(200).collect::<String>()
            ),
            retry: status.is_server_error(),
        });
    }
    Ok((ctype, text))
}

/// A REST answer read as the method's output: a JSON object by proto field names
/// (only the keys present), or plain text for a wrapper output.
fn decode_rest(out: &MessageDescriptor, ctype: &str, body: &str) -> Result<Value, CallError> {
    let wrapper_field = crate::mapping::wrapper_value_field(out);
    if ctype.starts_with("application/json") {
        let v =
            json::parse(body).map_err(|e| CallError::fatal(format!("invalid JSON answer: {e}")))?;
        if let Some(f) = wrapper_field {
            return crate::mapping::normalize(&f, &v).map_err(CallError::fatal);
        }
        let Value::Object(o) = v else {
            return Err(CallError::fatal(format!(
                "the answer must be a JSON object for {}",
                out.name()
            )));
        };
        let mut res = Object::new();
        for f in out.fields() {
            if let Some(x) = o.get(f.name()).or_else(|| o.get(f.json_name())) {
                let v = crate::mapping::normalize(&f, x).map_err(|e| {
                    CallError::fatal(format!(
                        "invalid type of return value for '{}': {e}",
                        f.name()
                    ))
                })?;
                res.insert(f.name().to_string(), v);
            }
        }
        Ok(Value::object(res))
    } else if ctype.starts_with("text/plain") {
        let f = wrapper_field.ok_or_else(|| {
            CallError::fatal(format!(
                "a text answer needs a primitive return type, but {} is a message",
                out.name()
            ))
        })?;
        let v = match f.kind() {
            prost_reflect::Kind::String | prost_reflect::Kind::Bytes => Value::str(body),
            _ => json::parse(body.trim()).unwrap_or_else(|_| Value::str(body)),
        };
        crate::mapping::normalize(&f, &v).map_err(CallError::fatal)
    } else {
        Err(CallError::fatal(format!(
            "unsupported answer content type {ctype:?}"
        )))
    }
}
