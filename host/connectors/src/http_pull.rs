//! eKuiper's `httppull` source: requests `url` every `interval` ms (default 10000)
//! with `method` (GET), `headers`, `body` and `timeout`, and hands each answer's body
//! to the stream's FORMAT. With `incremental: true`, an answer equal to the last one is
//! skipped. A failed request is logged and tried again at the next interval.

use crate::http::HttpRequest;
use crate::props::PropReader;
use crate::sleep::{Sleeper, TokioSleeper};
use std::sync::Arc;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceMessage, SourceSender,
};
use tributary_core::{Clock, Object, Result, Value};

#[derive(Debug)]
pub struct HttpPullSource {
    req: HttpRequest,
    body: Option<String>,
    interval_ms: u64,
    incremental: bool,
    clock: Arc<dyn Clock>,
    rule_id: String,
    sleeper: Arc<dyn Sleeper>,
}

impl HttpPullSource {
    /// DATASOURCE, when set, is appended to `url` (eKuiper's resource path).
    pub fn new(datasource: &str, props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        let r = PropReader::new(props, "httppull source");
        let mut req = HttpRequest::from_props(&r, "GET")?;
        if !datasource.is_empty() && datasource != "/" {
            req.url = format!(
                "{}/{}",
                req.url.trim_end_matches('/'),
                datasource.trim_start_matches('/')
            );
        }
        let interval_ms = r.duration_ms("interval")?.unwrap_or(10_000);
        if interval_ms == 0 {
            return Err(r.rejected("interval", "must be at least 1 ms"));
        }
        Ok(HttpPullSource {
            req,
            body: r.string("body")?.filter(|b| !b.is_empty()),
            interval_ms,
            incremental: r.bool("incremental")?.unwrap_or(false),
            clock: ctx.clock.clone(),
            rule_id: ctx.rule_id.clone(),
            sleeper: Arc::new(TokioSleeper),
        })
    }
}

impl Source for HttpPullSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let client = reqwest::Client::new();
            let mut last: Option<Vec<u8>> = None;
            loop {
                let body = self.body.clone().map(String::into_bytes);
                match self.req.build(&client, body).send().await {
                    Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                        Ok(bytes) => {
                            let bytes = bytes.to_vec();
                            if !(self.incremental && last.as_ref() == Some(&bytes)) {
                                let mut meta = Object::new();
                                meta.insert("url".into(), Value::str(&self.req.url));
                                let msg = SourceMessage {
                                    payload: Payload::Bytes(bytes.clone()),
                                    meta: Arc::new(meta),
                                    timestamp: self.clock.now_ms(),
                                    stream: 0,
                                    position: None,
                                };
                                if !out.send(vec![msg]).await {
                                    return Ok(());
                                }
                                last = Some(bytes);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(rule = %self.rule_id, url = %self.req.url, error = %e, "httppull: cannot read the answer")
                        }
                    },
                    Ok(resp) => {
                        tracing::warn!(rule = %self.rule_id, url = %self.req.url, status = %resp.status(), "httppull: the server refused")
                    }
                    Err(e) => {
                        tracing::warn!(rule = %self.rule_id, url = %self.req.url, error = %e, "httppull: request failed")
                    }
                }
                self.sleeper.sleep(self.interval_ms).await;
            }
        })
    }
}
