//! SQL values ↔ protobuf messages, with eKuiper's argument rules.
//!
//! Arguments: as many arguments as the request message has fields fill the fields in
//! declaration order; a single object argument fills the fields by name; a message
//! without fields takes no argument. Results: a message becomes an object keyed by the
//! proto field names; a wrapper (`google.protobuf.StringValue` …) becomes its scalar.

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value as Pv,
};
use std::collections::HashMap;
use tributary_core::{Object, Value};

/// The well-known wrapper messages, returned as their scalar.
fn is_wrapper(m: &MessageDescriptor) -> bool {
    matches!(
        m.full_name(),
        "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
}

/// The request message of a call with `args`.
pub fn args_to_message(desc: &MessageDescriptor, args: &[Value]) -> Result<DynamicMessage, String> {
    let fields: Vec<FieldDescriptor> = desc.fields().collect();
    let mut msg = DynamicMessage::new(desc.clone());
    if fields.is_empty() {
        if args.is_empty() {
            return Ok(msg);
        }
        return Err(format!(
            "{} takes no parameters but got {}",
            desc.name(),
            args.len()
        ));
    }
    // A single object whose keys name fields fills them by name (`fn(*)` passes the
    // row): checked first, as eKuiper does.
    if let [Value::Object(o)] = args {
        if fields
            .iter()
            .any(|f| o.contains_key(f.name()) || o.contains_key(f.json_name()))
        {
            for f in &fields {
                if let Some(v) = o.get(f.name()).or_else(|| o.get(f.json_name())) {
                    set_field(&mut msg, f, v)?;
                }
            }
            return Ok(msg);
        }
    }
    if args.len() == fields.len() {
        // Positional, in declaration order (also one object for a one-message request).
        for (f, a) in fields.iter().zip(args) {
            set_field(&mut msg, f, a)?;
        }
        return Ok(msg);
    }
    Err(format!(
        "require {} parameters but got {}",
        fields.len(),
        args.len()
    ))
}

fn set_field(msg: &mut DynamicMessage, f: &FieldDescriptor, v: &Value) -> Result<(), String> {
    if matches!(v, Value::Null) {
        return Ok(());
    }
    let pv = to_field_value(f, v).map_err(|e| format!("field {}: {e}", f.name()))?;
    msg.try_set_field(f, pv)
        .map_err(|e| format!("field {}: {e}", f.name()))
}

fn to_field_value(f: &FieldDescriptor, v: &Value) -> Result<Pv, String> {
    if f.is_map() {
        let Value::Object(o) = v else {
            return Err(format!("expects an object, got {}", type_name(v)));
        };
        let entry = match f.kind() {
            Kind::Message(m) => m,
            _ => return Err("malformed map field".into()),
        };
        let key_f = entry.map_entry_key_field();
        let val_f = entry.map_entry_value_field();
        let mut map = HashMap::new();
        for (k, item) in o.iter() {
            let key = match key_f.kind() {
                Kind::String => MapKey::String(k.clone()),
                Kind::Bool => MapKey::Bool(k == "true"),
                Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(
                    k.parse()
                        .map_err(|_| format!("map key {k:?} is not an int32"))?,
                ),
                Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(
                    k.parse()
                        .map_err(|_| format!("map key {k:?} is not an int64"))?,
                ),
                Kind::Uint32 | Kind::Fixed32 => MapKey::U32(
                    k.parse()
                        .map_err(|_| format!("map key {k:?} is not a uint32"))?,
                ),
                _ => MapKey::U64(
                    k.parse()
                        .map_err(|_| format!("map key {k:?} is not a uint64"))?,
                ),
            };
            map.insert(key, scalar_or_message(&val_f.kind(), item)?);
        }
        return Ok(Pv::Map(map));
    }
    if f.is_list() {
        let Value::Array(items) = v else {
            return Err(format!("expects an array, got {}", type_name(v)));
        };
        return items
            .iter()
            .map(|i| scalar_or_message(&f.kind(), i))
            .collect::<Result<Vec<_>, _>>()
            .map(Pv::List);
    }
    scalar_or_message(&f.kind(), v)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
        Value::String(s) => s.parse().map_err(|_| format!("{s:?} is not an integer")),
        Value::Datetime(ns) => Ok(ns / 1_000_000),
        other => Err(format!("expects an integer, got {}", type_name(other))),
    }
}

fn float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::String(s) => s.parse().map_err(|_| format!("{s:?} is not a number")),
        other => Err(format!("expects a number, got {}", type_name(other))),
    }
}

fn scalar_or_message(kind: &Kind, v: &Value) -> Result<Pv, String> {
    Ok(match kind {
        Kind::Double => Pv::F64(float(v)?),
        Kind::Float => Pv::F32(float(v)? as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Pv::I32(i32::try_from(int(v)?).map_err(|_| "out of the int32 range".to_string())?)
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Pv::I64(int(v)?),
        Kind::Uint32 | Kind::Fixed32 => {
            Pv::U32(u32::try_from(int(v)?).map_err(|_| "out of the uint32 range".to_string())?)
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Pv::U64(u64::try_from(int(v)?).map_err(|_| "out of the uint64 range".to_string())?)
        }
        Kind::Bool => match v {
            Value::Bool(b) => Pv::Bool(*b),
            other => return Err(format!("expects a bool, got {}", type_name(other))),
        },
        Kind::String => match v {
            Value::String(s) => Pv::String(s.to_string()),
            other => return Err(format!("expects a string, got {}", type_name(other))),
        },
        Kind::Bytes => match v {
            Value::Bytes(b) => Pv::Bytes(b.to_vec().into()),
            Value::String(s) => Pv::Bytes(s.as_bytes().to_vec().into()),
            other => return Err(format!("expects bytes, got {}", type_name(other))),
        },
        Kind::Enum(e) => match v {
            Value::String(s) => Pv::EnumNumber(
                e.get_value_by_name(s)
                    .ok_or_else(|| format!("{s:?} is not a value of {}", e.name()))?
                    .number(),
            ),
            other => Pv::EnumNumber(
                i32::try_from(int(other)?).map_err(|_| "out of the enum range".to_string())?,
            ),
        },
        Kind::Message(m) if is_wrapper(m) => {
            let mut w = DynamicMessage::new(m.clone());
            if let Some(f) = m.get_field_by_name("value") {
                set_field(&mut w, &f, v)?;
            }
            Pv::Message(w)
        }
        Kind::Message(m) => match v {
            Value::Object(o) => {
                let mut inner = DynamicMessage::new(m.clone());
                for f in m.fields() {
                    if let Some(x) = o.get(f.name()).or_else(|| o.get(f.json_name())) {
                        set_field(&mut inner, &f, x)?;
                    }
                }
                Pv::Message(inner)
            }
            other => {
                return Err(format!(
                    "expects an object for {}, got {}",
                    m.name(),
                    type_name(other)
                ))
            }
        },
    })
}

/// The `value` field of a wrapper message; `None` for other messages.
pub fn wrapper_value_field(m: &MessageDescriptor) -> Option<FieldDescriptor> {
    if is_wrapper(m) {
        m.get_field_by_name("value")
    } else {
        None
    }
}

/// `v` as field `f` holds it: checked against the field's type and normalised (an
/// int64 sent as a JSON string becomes an integer).
pub fn normalize(f: &FieldDescriptor, v: &Value) -> Result<Value, String> {
    if matches!(v, Value::Null) {
        return Ok(Value::Null);
    }
    to_field_value(f, v).map(|pv| field_to_value(&pv))
}

/// A response message as a SQL value: an object keyed by proto field names (every
/// field, defaults included), or the scalar of a wrapper.
pub fn message_to_value(msg: &DynamicMessage) -> Value {
    let desc = msg.descriptor();
    if is_wrapper(&desc) {
        return desc
            .get_field_by_name("value")
            .map(|f| field_to_value(&msg.get_field(&f)))
            .unwrap_or(Value::Null);
    }
    let mut o = Object::new();
    for f in desc.fields() {
        // Of a oneof, only the member that is set.
        if f.containing_oneof().is_some() && !msg.has_field(&f) {
            continue;
        }
        o.insert(f.name().to_string(), field_to_value(&msg.get_field(&f)));
    }
    Value::object(o)
}

fn field_to_value(v: &Pv) -> Value {
    match v {
        Pv::Bool(b) => Value::Bool(*b),
        Pv::I32(i) => Value::Int(i64::from(*i)),
        Pv::I64(i) => Value::Int(*i),
        Pv::U32(u) => Value::Int(i64::from(*u)),
        Pv::U64(u) => i64::try_from(*u)
            .map(Value::Int)
            .unwrap_or(Value::Float(*u as f64)),
        Pv::F32(f) => Value::Float(f64::from(*f)),
        Pv::F64(f) => Value::Float(*f),
        Pv::String(s) => Value::str(s),
        Pv::Bytes(b) => Value::bytes(b.to_vec()),
        Pv::EnumNumber(n) => Value::Int(i64::from(*n)),
        Pv::Message(m) => message_to_value(m),
        Pv::List(items) => Value::array(items.iter().map(field_to_value).collect()),
        Pv::Map(map) => {
            let mut o = Object::new();
            for (k, v) in map {
                let key = match k {
                    MapKey::Bool(b) => b.to_string(),
                    MapKey::I32(i) => i.to_string(),
                    MapKey::I64(i) => i.to_string(),
                    MapKey::U32(u) => u.to_string(),
                    MapKey::U64(u) => u.to_string(),
                    MapKey::String(s) => s.clone(),
                };
                o.insert(key, field_to_value(v));
            }
            Value::object(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> prost_reflect::DescriptorPool {
        let src = r#"
            syntax = "proto3";
            package t;
            import "google/protobuf/wrappers.proto";
            message Req { string name = 1; int64 age = 2; repeated double xs = 3; Inner inner = 4; }
            message Inner { bool on = 1; }
            message Empty {}
            service S { rpc Call(Req) returns (google.protobuf.StringValue); }
        "#;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("t.proto"), src).expect("write");
        crate::schema::compile(dir.path(), "t.proto").expect("compile")
    }

    #[test]
    fn positional_and_object_arguments_fill_the_request() {
        let p = pool();
        let req = p.get_message_by_name("t.Req").expect("Req");
        let inner = Value::object(
            [("on".to_string(), Value::Bool(true))]
                .into_iter()
                .collect(),
        );
        let args = [
            Value::str("ann"),
            Value::Int(7),
            Value::array(vec![Value::Int(1), Value::Float(2.5)]),
            inner.clone(),
        ];
        let m = args_to_message(&req, &args).expect("positional");
        let back = message_to_value(&m);
        let Value::Object(o) = &back else {
            panic!("object")
        };
        assert_eq!(o.get("name"), Some(&Value::str("ann")));
        assert_eq!(o.get("age"), Some(&Value::Int(7)));
        assert_eq!(
            o.get("xs"),
            Some(&Value::array(vec![Value::Float(1.0), Value::Float(2.5)]))
        );
        assert_eq!(o.get("inner"), Some(&inner));
        // One object argument: fields by name; the missing ones keep their defaults.
        let obj = Value::object(
            [("name".to_string(), Value::str("bo"))]
                .into_iter()
                .collect(),
        );
        let m = args_to_message(&req, &[obj]).expect("object");
        assert_eq!(
            m.get_field_by_name("name")
                .map(|v| v.as_str().map(str::to_string)),
            Some(Some("bo".into()))
        );
        // Wrong count, wrong type: errors that say what is wrong.
        let e = args_to_message(&req, &[Value::Int(1), Value::Int(2)]).expect_err("count");
        assert_eq!(e, "require 4 parameters but got 2");
        let e = args_to_message(
            &req,
            &[Value::Int(1), Value::Int(2), Value::Null, Value::Null],
        )
        .expect_err("type");
        assert_eq!(e, "field name: expects a string, got an int");
        let empty = p.get_message_by_name("t.Empty").expect("Empty");
        assert!(args_to_message(&empty, &[]).is_ok());
    }

    #[test]
    fn wrappers_come_back_as_scalars() {
        let p = pool();
        let w = p
            .get_message_by_name("google.protobuf.StringValue")
            .expect("wrapper");
        let mut m = DynamicMessage::new(w);
        m.set_field_by_name("value", Pv::String("hi".into()));
        assert_eq!(message_to_value(&m), Value::str("hi"));
    }
}
