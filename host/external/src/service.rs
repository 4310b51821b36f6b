//! eKuiper's service files, read unchanged: `<root>/etc/services/<service>.json`.
//!
//! The service name is the file name. Each entry of `interfaces` binds one address
//! and protocol to a `.proto` schema (or to nothing, for a schemaless REST interface);
//! its functions are the schema's rpcs, renamed by `functions[{name, serviceName}]`.
//! Tributary adds per-function options (timeout, concurrency, retries, failure policy)
//! that eKuiper files simply do not carry; they may sit in an interface's `options` (for
//! all its functions) or in a `functions` entry (for one).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize)]
pub struct ServiceFile {
    #[serde(default)]
    pub about: Option<serde_json::Value>,
    pub interfaces: BTreeMap<String, Interface>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<serde_json::Value>,
    pub address: String,
    pub protocol: String,
    #[serde(default)]
    pub schema_type: Option<String>,
    #[serde(default)]
    pub schema_file: Option<String>,
    #[serde(default)]
    pub schemaless: bool,
    #[serde(default)]
    pub functions: Vec<FunctionMapping>,
    #[serde(default)]
    pub options: Options,
}

/// An rpc exported under a SQL name, with optional per-function settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionMapping {
    pub name: String,
    pub service_name: String,
    #[serde(default)]
    pub description: Option<serde_json::Value>,
    #[serde(flatten)]
    pub settings: Settings,
}

/// eKuiper's interface options, plus Tributary's settings for all its functions.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    #[serde(default)]
    pub insecure_skip_verify: bool,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(flatten)]
    pub settings: Settings,
}

/// What happens to a row whose call fails after its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// The row becomes an error (an error emission under `sendError`): eKuiper's way.
    Error,
    /// The function returns null for that row.
    Null,
    /// The row is dropped.
    Skip,
}

/// Per-function settings; unset ones fall back to the interface's, then to defaults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Milliseconds per attempt (eKuiper: 5000).
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Requests in flight at once for one batch.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Attempts in all (eKuiper's meaning: below 1 means one attempt).
    #[serde(default)]
    pub retry_count: Option<i64>,
    /// Wait before the first retry, doubled after each: a Go duration (`"500ms"`,
    /// `"2s"`) as eKuiper writes it, or milliseconds.
    #[serde(default)]
    pub retry_interval: Option<serde_json::Value>,
    #[serde(default)]
    pub on_error: Option<OnError>,
}

/// Settings resolved for one function.
#[derive(Debug, Clone)]
pub struct Policy {
    pub timeout: Duration,
    pub concurrency: usize,
    pub attempts: u32,
    pub retry_interval: Duration,
    pub on_error: OnError,
}

pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
pub const DEFAULT_CONCURRENCY: usize = 16;

/// A Go duration (`"1.5s"`, `"300ms"`, `"1m"`) or a number of milliseconds.
pub fn parse_duration(v: &serde_json::Value) -> Result<Duration, String> {
    if let Some(ms) = v.as_u64() {
        return Ok(Duration::from_millis(ms));
    }
    let s = v.as_str().ok_or_else(|| {
        format!("retryInterval {v} must be a duration like \"500ms\" or a number of milliseconds")
    })?;
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("retryInterval {s:?} is not a duration"))?;
    let ms = match unit {
        "ns" => n / 1e6,
        "us" | "µs" => n / 1e3,
        "ms" | "" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => return Err(format!("retryInterval {s:?} has an unknown unit {unit:?}")),
    };
    Ok(Duration::from_micros((ms * 1000.0) as u64))
}

impl Settings {
    /// `self` over `fallback` over the defaults.
    pub fn resolve(&self, fallback: &Settings) -> Result<Policy, String> {
        let timeout = self
            .timeout
            .or(fallback.timeout)
            .unwrap_or(DEFAULT_TIMEOUT_MS);
        if timeout == 0 {
            return Err("timeout must be above 0".into());
        }
        let concurrency = self
            .concurrency
            .or(fallback.concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY);
        if concurrency == 0 {
            return Err("concurrency must be above 0".into());
        }
        let retry_interval = match self
            .retry_interval
            .as_ref()
            .or(fallback.retry_interval.as_ref())
        {
            Some(v) => parse_duration(v)?,
            None => Duration::from_millis(100),
        };
        Ok(Policy {
            timeout: Duration::from_millis(timeout),
            concurrency,
            attempts: self
                .retry_count
                .or(fallback.retry_count)
                .unwrap_or(0)
                .clamp(1, 100) as u32,
            retry_interval,
            on_error: self
                .on_error
                .or(fallback.on_error)
                .unwrap_or(OnError::Error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_writes_them() {
        assert_eq!(
            parse_duration(&"500ms".into()),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(parse_duration(&"2s".into()), Ok(Duration::from_secs(2)));
        assert_eq!(
            parse_duration(&serde_json::json!(250)),
            Ok(Duration::from_millis(250))
        );
        assert!(parse_duration(&"2 weeks".into()).is_err());
    }

    #[test]
    fn function_settings_override_the_interface() {
        let f: FunctionMapping = serde_json::from_str(
            r#"{"name": "a", "serviceName": "A", "timeout": 100, "onError": "skip"}"#,
        )
        .expect("mapping");
        let o: Options = serde_json::from_str(
            r#"{"insecureSkipVerify": true, "retryCount": 3, "retryInterval": "10ms", "timeout": 900}"#,
        )
        .expect("options");
        let p = f.settings.resolve(&o.settings).expect("policy");
        assert_eq!(p.timeout, Duration::from_millis(100));
        assert_eq!(p.attempts, 3);
        assert_eq!(p.retry_interval, Duration::from_millis(10));
        assert_eq!(p.on_error, OnError::Skip);
        assert_eq!(p.concurrency, DEFAULT_CONCURRENCY);
    }
}
