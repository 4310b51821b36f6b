//! The `random` source: emits one record per `interval` ms built from `pattern`, a
//! JSON object whose positive integer fields are upper bounds of random integers
//! (eKuiper's random source) and whose other fields are copied. Props:
//! `{"interval": 1000, "pattern": {"temp": 100}, "seed": 1, "count": 0}`; `count` > 0
//! ends the source after that many records. Record `n` is drawn from a generator
//! seeded with `seed` and `n`, the same as the wasm example's, so both tiers emit the
//! same records for the same props (fields in name order), and the source can rewind:
//! its offset is the number of records handed over.

use serde_json::Value as Json;
use tributary_native_sdk::*;

enum Gen {
    Below(u64),
    Fixed(Value),
}

struct Random {
    fields: Vec<(String, Gen)>,
    interval: u32,
    count: u64,
    sent: u64,
    seed: u64,
    state: u64,
}

fn fixed(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::Str(s.clone()),
        other => Value::Json(other.to_string()),
    }
}

fn number(props: &Json, key: &str, default: i64) -> Result<i64, String> {
    match props.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| format!("random source: {key} must be an integer")),
    }
}

impl Random {
    /// Seeds the generator for record `n` (splitmix64 of the seed and `n`).
    fn start_record(&mut self, n: u64) {
        let mut z = self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.state = (z ^ (z >> 31)) | 1;
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }
}

impl SourcePlugin for Random {
    const REWINDABLE: bool = true;

    fn new(_host: Host, _datasource: &str, props: &str) -> Result<Self, String> {
        let props: Json =
            serde_json::from_str(props).map_err(|e| format!("random source: props: {e}"))?;
        let pattern = props
            .get("pattern")
            .ok_or("random source needs a pattern prop")?
            .as_object()
            .ok_or("pattern must be an object")?;
        let fields = pattern
            .iter()
            .map(|(k, v)| {
                let gen = match v.as_i64() {
                    Some(n) if n > 0 => Gen::Below(n as u64),
                    _ => Gen::Fixed(fixed(v)),
                };
                (k.clone(), gen)
            })
            .collect();
        let seed = number(&props, "seed", 1)?.max(1) as u64;
        Ok(Random {
            fields,
            interval: number(&props, "interval", 1000)?.clamp(0, u32::MAX as i64) as u32,
            count: number(&props, "count", 0)?.max(0) as u64,
            sent: 0,
            seed,
            state: 1,
        })
    }

    fn pull(&mut self, _max: u32) -> Result<Pulled, String> {
        if self.count > 0 && self.sent >= self.count {
            return Ok(Pulled {
                done: true,
                ..Pulled::default()
            });
        }
        self.start_record(self.sent);
        let mut fields = Vec::with_capacity(self.fields.len());
        for i in 0..self.fields.len() {
            let v = match &self.fields[i].1 {
                Gen::Below(n) => {
                    let n = *n;
                    Value::Int((self.next() % n) as i64)
                }
                Gen::Fixed(v) => v.clone(),
            };
            fields.push((self.fields[i].0.clone(), v));
        }
        self.sent += 1;
        Ok(Pulled {
            messages: vec![Message {
                payload: Payload::Fields(fields),
                meta: vec![],
            }],
            done: self.count > 0 && self.sent >= self.count,
            wait_ms: self.interval,
        })
    }

    fn offset(&self) -> Option<String> {
        Some(self.sent.to_string())
    }

    fn rewind(&mut self, offset: &str) -> Result<(), String> {
        self.sent = offset
            .parse()
            .map_err(|_| format!("random: offset {offset:?} is not a record count"))?;
        Ok(())
    }
}

export_source_plugin!(Random, Random);
