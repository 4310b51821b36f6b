//! eKuiper's `rest` sink: sends each emission to `url` with `method` (default POST),
//! `headers`, `bodyType` (json by default, or text, form, none) and `timeout` (ms).
//! An answer outside 2xx, a timeout or a refused connection is an error, which the
//! engine retries as the sink's retry props say.

use crate::http::{BodyType, HttpRequest};
use crate::props::PropReader;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData};
use tributary_core::{Error, Result};

#[derive(Debug)]
pub struct RestSink {
    req: HttpRequest,
    client: reqwest::Client,
    debug_resp: bool,
    rule_id: String,
}

impl RestSink {
    pub fn new(props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        let r = PropReader::new(props, "rest sink");
        Ok(RestSink {
            req: HttpRequest::from_props(&r, "POST")?,
            client: reqwest::Client::new(),
            debug_resp: r.bool("debugResp")?.unwrap_or(false),
            rule_id: ctx.rule_id.clone(),
        })
    }
}

/// `a=1&b=x`: an object's fields as a form (eKuiper's `form` body type).
fn form_body(data: &SinkData) -> Vec<u8> {
    match data.to_value() {
        tributary_core::Value::Object(o) => o
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    tributary_core::Value::String(s) => s.to_string(),
                    other => other.to_string(),
                };
                format!("{}={}", encode(k), encode(&v))
            })
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes(),
        _ => data.to_text().into_bytes(),
    }
}

/// Percent-encodes a form component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Sink for RestSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let body = match self.req.body_type {
                BodyType::None => None,
                BodyType::Form => Some(form_body(data)),
                BodyType::Json | BodyType::Text => Some(data.to_text().into_bytes()),
            };
            let url = &self.req.url;
            let resp = self
                .req
                .build(&self.client, body)
                .send()
                .await
                .map_err(|e| {
                    Error::external(format!("rest sink: {} {url}: {e}", self.req.method))
                })?;
            let status = resp.status();
            if self.debug_resp || !status.is_success() {
                let text = resp.text().await.unwrap_or_default();
                if !status.is_success() {
                    return Err(Error::external(format!(
                        "rest sink: {url} answered {status}: {}",
                        text.chars().take(200).collect::<String>()
                    )));
                }
                tracing::info!(rule = %self.rule_id, %url, %status, body = %text, "rest sink response");
            }
            Ok(())
        })
    }
}
