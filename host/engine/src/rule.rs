//! Rule definitions in eKuiper's rule JSON:
//! `{"id", "name", "sql", "actions": [{"log": {}}], "options": {...}, "triggered"}`.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use tributary_core::{json::from_json, Error, Value};

/// How a failed rule is restarted (eKuiper's `restartStrategy`).
#[derive(Debug, Clone, PartialEq)]
pub struct RestartStrategy {
    /// 0 = never restart.
    pub attempts: u32,
    pub delay_ms: u64,
    pub multiplier: f64,
    pub max_delay_ms: u64,
    pub jitter_factor: f64,
}

impl Default for RestartStrategy {
    fn default() -> Self {
        RestartStrategy {
            attempts: 0,
            delay_ms: 1000,
            multiplier: 2.0,
            max_delay_ms: 30_000,
            jitter_factor: 0.1,
        }
    }
}

/// eKuiper's rule options. Durations are milliseconds (integers, or strings like
/// `"1s"`, `"500ms"`, `"5m"` as eKuiper 2 accepts).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOptions {
    pub is_event_time: bool,
    pub late_tolerance_ms: i64,
    pub concurrency: usize,
    /// Capacity, in batches, of each channel between the rule's stages.
    pub buffer_length: usize,
    pub send_meta_to_sink: bool,
    pub send_error: bool,
    pub send_nil_field: bool,
    /// 0 at-most-once, 1 at-least-once, 2 exactly-once.
    pub qos: u8,
    pub checkpoint_interval_ms: i64,
    pub restart_strategy: RestartStrategy,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            is_event_time: false,
            late_tolerance_ms: 0,
            concurrency: 1,
            buffer_length: 1024,
            send_meta_to_sink: false,
            send_error: true,
            send_nil_field: false,
            qos: 0,
            checkpoint_interval_ms: 300_000,
            restart_strategy: RestartStrategy::default(),
        }
    }
}

/// The largest `bufferLength` (batches per channel) a rule may ask for.
pub const MAX_BUFFER_LENGTH: u64 = 100_000;

/// One entry of `actions`: a sink type and its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub kind: String,
    pub props: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    pub id: String,
    pub name: Option<String>,
    pub sql: String,
    pub actions: Vec<Action>,
    pub options: RuleOptions,
    /// Whether the rule runs once created (eKuiper's `triggered`, default true).
    pub triggered: bool,
    /// The JSON as given, for describe/export.
    pub raw: Json,
}

impl RuleDef {
    /// Parses rule JSON text.
    pub fn parse(text: &str) -> Result<RuleDef, Error> {
        let json: Json = serde_json::from_str(text).map_err(|e| {
            Error::user(format!(
                "invalid rule JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        RuleDef::from_json(json)
    }

    /// Builds a rule from parsed JSON; every problem names the offending key.
    pub fn from_json(json: Json) -> Result<RuleDef, Error> {
        let obj = json
            .as_object()
            .ok_or_else(|| Error::user("rule must be a JSON object"))?;
        for k in obj.keys() {
            if !matches!(
                k.as_str(),
                "id" | "name" | "sql" | "actions" | "options" | "triggered" | "graph" | "tags"
            ) {
                return Err(Error::user(format!("unknown rule key \"{k}\"")));
            }
        }
        if obj.contains_key("graph") {
            return Err(Error::user("graph rules are not supported; use \"sql\""));
        }
        let id = match obj.get("id") {
            Some(Json::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Json::String(_)) | None => return Err(Error::user("rule id is required")),
            Some(_) => return Err(Error::user("rule \"id\" must be a string")),
        };
        tributary_core::names::check("rule id", &id).map_err(Error::user)?;
        if !id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(Error::user(format!(
                "invalid rule id \"{id}\": use letters, digits, '_', '-' or '.'"
            )));
        }
        let name = match obj.get("name") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::user("rule \"name\" must be a string")),
        };
        let sql = match obj.get("sql") {
            Some(Json::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(Error::user(format!(
                    "rule {id}: \"sql\" is required and must be a string"
                )))
            }
        };
        let actions = match obj.get("actions") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, x)| parse_action(&id, i, x))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(Error::user(format!(
                    "rule {id}: \"actions\" must be an array"
                )))
            }
        };
        let options = match obj.get("options") {
            None | Some(Json::Null) => RuleOptions::default(),
            Some(Json::Object(o)) => parse_options(&id, o)?,
            Some(_) => {
                return Err(Error::user(format!(
                    "rule {id}: \"options\" must be an object"
                )))
            }
        };
        let triggered = match obj.get("triggered") {
            None | Some(Json::Null) => true,
            Some(Json::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::user(format!(
                    "rule {id}: \"triggered\" must be a boolean"
                )))
            }
        };
        Ok(RuleDef {
            id,
            name,
            sql,
            actions,
            options,
            triggered,
            raw: json,
        })
    }
}

fn parse_action(id: &str, i: usize, x: &Json) -> Result<Action, Error> {
    let o = x
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| {
            Error::user(format!(
                "rule {id}: actions[{i}] must be an object with exactly one sink type, like {{\"log\": {{}}}}"
            ))
        })?;
    let Some((kind, props)) = o.iter().next() else {
        return Err(Error::user(format!("rule {id}: actions[{i}] is empty")));
    };
    let props = match props {
        Json::Object(p) => p
            .iter()
            .map(|(k, v)| (k.clone(), from_json(v.clone())))
            .collect(),
        Json::Null => BTreeMap::new(),
        _ => {
            return Err(Error::user(format!(
                "rule {id}: actions[{i}].{kind} must be an object of properties"
            )))
        }
    };
    Ok(Action {
        kind: kind.to_ascii_lowercase(),
        props,
    })
}

/// Parses a duration option: integer milliseconds or a string like "1s".
pub fn duration_ms(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => parse_duration(s),
        _ => None,
    }
}

/// `"500ms"`, `"1s"`, `"2m"`, `"1h"`, `"1h30m"`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let v: f64 = num.parse().ok()?;
        num.clear();
        total += v * match unit.as_str() {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        any = true;
    }
    if !num.is_empty() || !any {
        return None;
    }
    Some(total as i64)
}

fn parse_options(id: &str, o: &serde_json::Map<String, Json>) -> Result<RuleOptions, Error> {
    let mut r = RuleOptions::default();
    let bad = |k: &str, want: &str| Error::user(format!("rule {id}: option {k} must be {want}"));
    for (k, v) in o {
        match k.as_str() {
            "isEventTime" => r.is_event_time = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?,
            "sendMetaToSink" => {
                r.send_meta_to_sink = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?
            }
            "sendError" => r.send_error = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?,
            "sendNilField" => r.send_nil_field = v.as_bool().ok_or_else(|| bad(k, "a boolean"))?,
            "lateTolerance" => {
                r.late_tolerance_ms = duration_ms(v)
                    .filter(|d| *d >= 0)
                    .ok_or_else(|| bad(k, "a non-negative duration in ms"))?
            }
            "checkpointInterval" => {
                r.checkpoint_interval_ms = duration_ms(v)
                    .filter(|d| *d > 0)
                    .ok_or_else(|| bad(k, "a positive duration in ms"))?
            }
            "concurrency" => {
                r.concurrency =
                    v.as_u64()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| bad(k, "a positive integer"))? as usize
            }
            "bufferLength" => {
                r.buffer_length = v
                    .as_u64()
                    .filter(|n| (1..=MAX_BUFFER_LENGTH).contains(n))
                    .ok_or_else(|| bad(k, &format!("an integer from 1 to {MAX_BUFFER_LENGTH}")))?
                    as usize
            }
            "qos" => {
                r.qos = v
                    .as_u64()
                    .filter(|n| *n <= 2)
                    .ok_or_else(|| bad(k, "0, 1 or 2"))? as u8
            }
            "restartStrategy" => {
                let s = v.as_object().ok_or_else(|| bad(k, "an object"))?;
                for (sk, sv) in s {
                    let rs = &mut r.restart_strategy;
                    match sk.as_str() {
                        "attempts" => {
                            rs.attempts = sv
                                .as_u64()
                                .ok_or_else(|| bad("restartStrategy.attempts", "an integer"))?
                                as u32
                        }
                        "delay" => {
                            rs.delay_ms = duration_ms(sv)
                                .filter(|d| *d >= 0)
                                .ok_or_else(|| bad("restartStrategy.delay", "a duration in ms"))?
                                as u64
                        }
                        "maxDelay" => {
                            rs.max_delay_ms =
                                duration_ms(sv).filter(|d| *d >= 0).ok_or_else(|| {
                                    bad("restartStrategy.maxDelay", "a duration in ms")
                                })? as u64
                        }
                        "multiplier" => {
                            rs.multiplier = sv
                                .as_f64()
                                .filter(|m| *m >= 1.0)
                                .ok_or_else(|| bad("restartStrategy.multiplier", "a number >= 1"))?
                        }
                        "jitterFactor" => {
                            rs.jitter_factor = sv
                                .as_f64()
                                .filter(|j| (0.0..1.0).contains(j))
                                .ok_or_else(|| {
                                    bad("restartStrategy.jitterFactor", "a number in [0, 1)")
                                })?
                        }
                        other => {
                            return Err(Error::user(format!(
                                "rule {id}: unknown restartStrategy key \"{other}\""
                            )))
                        }
                    }
                }
            }
            // Accepted for compatibility; they have no effect here (documented).
            "debug"
            | "disableBufferFullDiscard"
            | "enableSaveStateBeforeStop"
            | "cron"
            | "duration"
            | "cronDatetimeRange"
            | "planOptimizeStrategy"
            | "notifySub" => {}
            other => {
                return Err(Error::user(format!(
                    "rule {id}: unknown option \"{other}\""
                )))
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ekuiper_rule_json() {
        let r = RuleDef::parse(
            r#"{"id":"rule1","sql":"SELECT * FROM demo","actions":[{"log":{}},{"file":{"path":"/tmp/x"}}],
                "options":{"bufferLength":10,"sendError":false,"qos":1,"checkpointInterval":"5s","lateTolerance":1000,
                "restartStrategy":{"attempts":3,"delay":"1s"}}}"#,
        )
        .expect("rule");
        assert_eq!(r.actions.len(), 2);
        assert_eq!(r.actions[1].kind, "file");
        assert_eq!(r.options.buffer_length, 10);
        assert!(!r.options.send_error);
        assert_eq!(r.options.qos, 1);
        assert_eq!(r.options.checkpoint_interval_ms, 5000);
        assert_eq!(r.options.restart_strategy.attempts, 3);
        assert_eq!(r.options.restart_strategy.delay_ms, 1000);
    }

    #[test]
    fn errors_name_the_key() {
        for (json, want) in [
            (r#"{"sql":"SELECT 1 FROM d"}"#, "id is required"),
            (r#"{"id":"a"}"#, "\"sql\" is required"),
            (r#"{"id":"a","sql":"x","options":{"qos":5}}"#, "option qos"),
            (
                r#"{"id":"a","sql":"x","options":{"bogus":1}}"#,
                "unknown option \"bogus\"",
            ),
            (
                r#"{"id":"a","sql":"x","actions":[{"log":{},"file":{}}]}"#,
                "actions[0]",
            ),
            (r#"{"id":"a","sql":"x""#, "line 1"),
        ] {
            let e = RuleDef::parse(json).expect_err(json).to_string();
            assert!(e.contains(want), "{json}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("250"), Some(250));
        assert_eq!(parse_duration("1x"), None);
    }
}
