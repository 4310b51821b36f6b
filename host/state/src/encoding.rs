//! Values as stored text. An integer is its decimal digits, so that stores can add to
//! it natively; every other value is a one-letter tag, a colon and its payload:
//! `s:` text, `f:` float, `b:` bool, `n:` null, `y:` bytes (base64), `d:` datetime
//! (nanoseconds), `j:` an array or object (JSON; nested bytes and datetimes come back as
//! their JSON forms).

use base64::Engine as _;
use tributary_core::{json, Value};

pub fn encode(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Null => "n:".to_string(),
        Value::Bool(b) => format!("b:{b}"),
        Value::Float(f) => format!("f:{f:?}"),
        Value::String(s) => format!("s:{s}"),
        Value::Bytes(b) => format!("y:{}", base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Datetime(ns) => format!("d:{ns}"),
        Value::Array(_) | Value::Object(_) => format!("j:{}", json::to_json_string(v)),
    }
}

pub fn decode(s: &str) -> Result<Value, String> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    let (tag, payload) = s
        .split_once(':')
        .ok_or_else(|| format!("stored value {s:?} has no type tag"))?;
    let bad = || format!("stored value {s:?} is corrupt");
    Ok(match tag {
        "n" => Value::Null,
        "b" => Value::Bool(payload == "true"),
        "f" => Value::Float(payload.parse().map_err(|_| bad())?),
        "s" => Value::str(payload),
        "y" => Value::bytes(
            base64::engine::general_purpose::STANDARD
                .decode(payload)
                .map_err(|_| bad())?,
        ),
        "d" => Value::Datetime(payload.parse().map_err(|_| bad())?),
        "j" => json::parse(payload).map_err(|_| bad())?,
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        for v in [
            Value::Null,
            Value::Bool(false),
            Value::Int(-42),
            Value::Float(1.5),
            Value::Float(3.0),
            Value::str("12"),
            Value::str("a:b"),
            Value::bytes(vec![0, 255]),
            Value::Datetime(7),
            json::parse(r#"{"a":[1,"x"]}"#).expect("json"),
        ] {
            assert_eq!(decode(&encode(&v)), Ok(v.clone()), "{v:?}");
        }
        assert!(decode("zzz").is_err());
    }
}
