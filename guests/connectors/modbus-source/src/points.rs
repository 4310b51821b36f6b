//! The `points` prop: what to read from the device and how to turn it into a
//! column, `{"name": "temp", "kind": "holding", "address": 4, "type": "float32",
//! "count": 1, "scale": 0.1}`.

use crate::frame::Table;
use serde_json::{Map, Value as Json};
use tributary_guest::{json, Value};

/// How the registers of one value are read (big-endian words, the high word first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Float32,
    Int64,
    Uint64,
    Float64,
}

impl Type {
    fn parse(s: &str) -> Option<Type> {
        Some(match s {
            "bool" => Type::Bool,
            "int16" => Type::Int16,
            "uint16" => Type::Uint16,
            "int32" => Type::Int32,
            "uint32" => Type::Uint32,
            "float32" => Type::Float32,
            "int64" => Type::Int64,
            "uint64" => Type::Uint64,
            "float64" => Type::Float64,
            _ => return None,
        })
    }

    /// Registers per value (a bool is one bit, not a register).
    fn registers(self) -> usize {
        match self {
            Type::Bool | Type::Int16 | Type::Uint16 => 1,
            Type::Int32 | Type::Uint32 | Type::Float32 => 2,
            Type::Int64 | Type::Uint64 | Type::Float64 => 4,
        }
    }
}

/// One column of the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub name: String,
    pub table: Table,
    pub address: u16,
    /// Values read (more than one: the column is a JSON array).
    pub count: usize,
    pub ty: Type,
    pub scale: Option<f64>,
}

/// The most a single read may ask for (the Modbus limits).
const MAX_BITS: usize = 2000;
const MAX_REGISTERS: usize = 125;

const KNOWN: &[&str] = &["name", "kind", "address", "count", "type", "scale"];

fn field<'a>(p: &'a Map<String, Json>, key: &str) -> Result<Option<&'a Json>, String> {
    Ok(p.get(key).filter(|v| !v.is_null()))
}

fn text<'a>(p: &'a Map<String, Json>, i: usize, key: &str) -> Result<Option<&'a str>, String> {
    match field(p, key)? {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("points[{i}]: {key} must be a string, not {other}")),
    }
}

fn uint(p: &Map<String, Json>, i: usize, key: &str, max: u64) -> Result<Option<u64>, String> {
    match field(p, key)? {
        None => Ok(None),
        Some(v) => match v.as_u64().filter(|n| *n <= max) {
            Some(n) => Ok(Some(n)),
            None => Err(format!(
                "points[{i}]: {key} must be an integer from 0 to {max}, not {v}"
            )),
        },
    }
}

impl Point {
    fn parse(i: usize, v: &Json) -> Result<Point, String> {
        let Json::Object(p) = v else {
            return Err(format!("points[{i}] must be an object, not {v}"));
        };
        if let Some(k) = p.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!(
                "points[{i}]: unknown key {k:?} (it knows {})",
                KNOWN.join(", ")
            ));
        }
        let name = text(p, i, "name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("points[{i}]: name is required"))?
            .to_string();
        let kind = text(p, i, "kind")?.unwrap_or("holding");
        let table = Table::parse(kind).ok_or_else(|| {
            format!(
                "points[{i}] ({name}): kind must be holding, input, coil or discrete, not {kind:?}"
            )
        })?;
        let address = uint(p, i, "address", 65535)?
            .ok_or_else(|| format!("points[{i}] ({name}): address is required"))?
            as u16;
        let default_type = if table.bits() { "bool" } else { "uint16" };
        let ty_name = text(p, i, "type")?.unwrap_or(default_type);
        let ty = Type::parse(ty_name).ok_or_else(|| {
            format!(
                "points[{i}] ({name}): type must be bool, int16, uint16, int32, uint32, float32, \
                 int64, uint64 or float64, not {ty_name:?}"
            )
        })?;
        if table.bits() != (ty == Type::Bool) {
            return Err(format!(
                "points[{i}] ({name}): {kind} {} bool",
                if table.bits() {
                    "values are"
                } else {
                    "registers cannot be"
                }
            ));
        }
        let count = uint(p, i, "count", 2000)?.unwrap_or(1) as usize;
        let (max, units) = if table.bits() {
            (MAX_BITS, count)
        } else {
            (MAX_REGISTERS, count * ty.registers())
        };
        if count == 0 || units > max {
            return Err(format!(
                "points[{i}] ({name}): count {count} of {ty_name} is {units} {}, one read takes 1 to {max}",
                if table.bits() { "bits" } else { "registers" }
            ));
        }
        if usize::from(address) + units > 65536 {
            return Err(format!(
                "points[{i}] ({name}): the read runs past address 65535"
            ));
        }
        let scale = match field(p, "scale")? {
            None => None,
            Some(v) => match v.as_f64().filter(|f| f.is_finite()) {
                Some(f) if ty != Type::Bool => Some(f),
                _ => {
                    return Err(format!(
                    "points[{i}] ({name}): scale must be a number, and only for numbers, not {v}"
                ))
                }
            },
        };
        Ok(Point {
            name,
            table,
            address,
            count,
            ty,
            scale,
        })
    }

    /// Items asked for in the read: bits, or registers.
    pub fn quantity(&self) -> u16 {
        if self.table.bits() {
            self.count as u16
        } else {
            (self.count * self.ty.registers()) as u16
        }
    }

    /// The column's value from the read's data bytes.
    pub fn decode(&self, data: &[u8]) -> Result<Value, String> {
        let need = if self.table.bits() {
            self.count.div_ceil(8)
        } else {
            usize::from(self.quantity()) * 2
        };
        if data.len() < need {
            return Err(format!(
                "{}: the answer has {} data bytes, {need} were asked for",
                self.name,
                data.len()
            ));
        }
        let values: Vec<Value> = (0..self.count).map(|k| self.one(data, k)).collect();
        Ok(match values.len() {
            1 => values.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Json(
                Json::Array(values.into_iter().map(json::to_json).collect()).to_string(),
            ),
        })
    }

    fn one(&self, data: &[u8], k: usize) -> Value {
        if self.ty == Type::Bool {
            return Value::Boolean(data[k / 8] >> (k % 8) & 1 == 1);
        }
        let n = self.ty.registers() * 2;
        let b = &data[k * n..(k + 1) * n];
        let raw = b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
        let (int, float) = match self.ty {
            Type::Int16 => (Some(i64::from(raw as u16 as i16)), None),
            Type::Uint16 | Type::Uint32 => (Some(raw as i64), None),
            Type::Int32 => (Some(i64::from(raw as u32 as i32)), None),
            Type::Int64 => (Some(raw as i64), None),
            Type::Uint64 => match i64::try_from(raw) {
                Ok(i) => (Some(i), None),
                Err(_) => (None, Some(raw as f64)),
            },
            Type::Float32 => (None, Some(f64::from(f32::from_bits(raw as u32)))),
            Type::Float64 => (None, Some(f64::from_bits(raw))),
            Type::Bool => (None, None),
        };
        match (self.scale, int, float) {
            (Some(s), Some(i), _) => Value::Float(i as f64 * s),
            (Some(s), None, Some(f)) => Value::Float(f * s),
            (None, Some(i), _) => Value::Int(i),
            (None, None, Some(f)) => Value::Float(f),
            _ => Value::Null,
        }
    }
}

/// The `points` prop.
pub fn parse(v: Option<&Json>) -> Result<Vec<Point>, String> {
    let Some(Json::Array(items)) = v else {
        return Err(
            "points is required: a list of {name, kind, address, count, type, scale}".into(),
        );
    };
    if items.is_empty() {
        return Err("points is empty: nothing to read".into());
    }
    let points: Vec<Point> = items
        .iter()
        .enumerate()
        .map(|(i, v)| Point::parse(i, v))
        .collect::<Result<_, _>>()?;
    for (i, p) in points.iter().enumerate() {
        if points[..i].iter().any(|q| q.name == p.name) {
            return Err(format!("points[{i}]: the name {} is used twice", p.name));
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(v: Json) -> Result<Point, String> {
        Point::parse(0, &v)
    }

    #[test]
    fn registers_decode_big_endian_with_the_high_word_first() {
        let p = point(serde_json::json!({"name": "t", "address": 4, "type": "float32"})).unwrap();
        assert_eq!(p.quantity(), 2);
        assert_eq!(p.decode(&[0x41, 0xac, 0, 0]), Ok(Value::Float(21.5)));
        let p = point(serde_json::json!({"name": "n", "address": 1, "type": "int16"})).unwrap();
        assert_eq!(p.decode(&[0xff, 0xfe]), Ok(Value::Int(-2)));
        let p = point(serde_json::json!({"name": "n", "address": 2, "type": "int32"})).unwrap();
        assert_eq!(p.decode(&[0, 1, 0x86, 0xa0]), Ok(Value::Int(100_000)));
        let p = point(serde_json::json!({"name": "s", "address": 9, "scale": 0.5, "count": 2}))
            .unwrap();
        assert_eq!(p.decode(&[0, 4, 0, 6]), Ok(Value::Json("[2,3]".into())));
        let c = point(serde_json::json!({"name": "c", "kind": "coil", "address": 0, "count": 3}))
            .unwrap();
        assert_eq!(
            c.decode(&[0b101]),
            Ok(Value::Json("[true,false,true]".into()))
        );
    }

    #[test]
    fn bad_points_are_refused_by_name() {
        for (v, want) in [
            (serde_json::json!({"address": 1}), "name is required"),
            (serde_json::json!({"name": "a"}), "address is required"),
            (
                serde_json::json!({"name": "a", "address": 1, "kind": "x"}),
                "kind must be",
            ),
            (
                serde_json::json!({"name": "a", "address": 1, "type": "bool"}),
                "registers cannot be bool",
            ),
            (
                serde_json::json!({"name": "a", "address": 1, "count": 200}),
                "one read takes 1 to 125",
            ),
            (
                serde_json::json!({"name": "a", "address": 1, "adress": 2}),
                "unknown key \"adress\"",
            ),
            (
                serde_json::json!({"name": "a", "address": 70000}),
                "0 to 65535",
            ),
        ] {
            let e = point(v).unwrap_err();
            assert!(e.contains(want), "{e} / {want}");
        }
    }
}
