//! eKuiper's common sink properties, applied before a sink sees an emission:
//! `sendSingle`, `fields`, `omitIfEmpty`, `dataTemplate`, `retryCount`, `retryInterval`.
//!
//! eKuiper's `dataTemplate` is a Go template; here it is a Jinja template rendered by
//! minijinja. The common Go forms are translated on load, so most eKuiper templates work
//! unchanged: `{{.field}}` → `{{ field }}`, `{{json .}}` → `{{ data|tojson }}`,
//! `{{json .field}}` → `{{ field|tojson }}`, and `{{.}}` → `{{ data }}`. The row (or
//! the list of rows when `sendSingle` is false) is available as `data`; with
//! `sendSingle` its fields are also top-level variables.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tributary_core::connector::{Emission, Rows, SinkData};
use tributary_core::json::to_json;
use tributary_core::{Error, Meta, Row, Value};

/// The common properties of one action.
#[derive(Debug)]
pub struct CommonProps {
    pub send_single: bool,
    pub fields: Option<Vec<String>>,
    pub omit_if_empty: bool,
    pub template: Option<Template>,
    pub retry_count: u32,
    pub retry_interval_ms: u64,
    /// How many messages the sink holds while its destination fails.
    pub buffer_length: usize,
}

/// Keys consumed here; the rest go to the sink.
pub const COMMON_KEYS: &[&str] = &[
    "sendSingle",
    "fields",
    "omitIfEmpty",
    "dataTemplate",
    "retryCount",
    "retryInterval",
    "bufferLength",
    "format",
    "enableCache",
    "runAsync",
];

fn bool_prop(props: &BTreeMap<String, Value>, k: &str, sink: &str) -> Result<bool, Error> {
    match props.get(k) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(Error::user(format!(
            "sink {sink}: property {k} must be a boolean, found {}",
            other.describe()
        ))),
    }
}

fn uint_prop(
    props: &BTreeMap<String, Value>,
    k: &str,
    sink: &str,
    default: u64,
) -> Result<u64, Error> {
    match props.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Int(i)) if *i >= 0 => Ok(*i as u64),
        Some(other) => Err(Error::user(format!(
            "sink {sink}: property {k} must be a non-negative integer, found {}",
            other.describe()
        ))),
    }
}

impl CommonProps {
    pub fn parse(sink: &str, props: &BTreeMap<String, Value>) -> Result<Self, Error> {
        let fields = match props.get("fields") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|f| match f {
                        Value::String(s) => Ok(s.to_string()),
                        other => Err(Error::user(format!(
                            "sink {sink}: property fields must be an array of strings, found {}",
                            other.describe()
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(other) => {
                return Err(Error::user(format!(
                    "sink {sink}: property fields must be an array of strings, found {}",
                    other.describe()
                )))
            }
        };
        let template = match props.get("dataTemplate") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(
                Template::compile(s)
                    .map_err(|e| Error::user(format!("sink {sink}: invalid dataTemplate: {e}")))?,
            ),
            Some(other) => {
                return Err(Error::user(format!(
                    "sink {sink}: property dataTemplate must be a string, found {}",
                    other.describe()
                )))
            }
        };
        Ok(CommonProps {
            send_single: bool_prop(props, "sendSingle", sink)?,
            fields,
            omit_if_empty: bool_prop(props, "omitIfEmpty", sink)?,
            template,
            retry_count: uint_prop(props, "retryCount", sink, 3)? as u32,
            retry_interval_ms: uint_prop(props, "retryInterval", sink, 1000)?,
            buffer_length: usize::try_from(uint_prop(props, "bufferLength", sink, 1024)?)
                .unwrap_or(usize::MAX),
        })
    }

    /// Shapes one emission into what the sink receives, passing each message to
    /// `out`: none (omitted), one, or one per row (`sendSingle`). A template error
    /// becomes an error message for that item. Rows are passed on as rows; nothing is
    /// encoded unless a template asks for it.
    pub fn shape(&self, emission: Emission, out: &mut dyn FnMut(Result<SinkData, String>)) {
        let rows: Rows = match emission {
            Emission::Error(e) => Rows::One(Row::new(
                vec![(Arc::from("error"), Value::str(e))],
                Meta::default(),
                0,
            )),
            Emission::Rows(rows) => match (&self.fields, rows) {
                (None, rows) => rows,
                (Some(fs), Rows::One(r)) => Rows::One(pick(&r, fs)),
                (Some(fs), Rows::Many(rs)) => {
                    Rows::Many(Arc::new(rs.iter().map(|r| pick(r, fs)).collect()))
                }
            },
        };
        if self.omit_if_empty && rows.as_slice().iter().all(|r| r.fields.is_empty()) {
            return;
        }
        match (&self.template, self.send_single) {
            (None, true) => match rows {
                Rows::One(r) => out(Ok(SinkData::Row(r))),
                Rows::Many(rs) => rs.iter().for_each(|r| out(Ok(SinkData::Row(r.clone())))),
            },
            (None, false) => out(Ok(SinkData::Rows(rows))),
            (Some(t), true) => {
                for r in rows.as_slice() {
                    out(t
                        .render(&Value::object(r.to_object()), true)
                        .map(SinkData::Text));
                }
            }
            (Some(t), false) => {
                let v = Value::array(
                    rows.as_slice()
                        .iter()
                        .map(|r| Value::object(r.to_object()))
                        .collect(),
                );
                out(t.render(&v, false).map(SinkData::Text));
            }
        }
    }

    /// [`CommonProps::shape`] collected into a vector (for tests and simple callers).
    pub fn shape_all(&self, emission: Emission) -> Vec<Result<SinkData, String>> {
        let mut v = Vec::new();
        self.shape(emission, &mut |d| v.push(d));
        v
    }
}

/// The row restricted to `fields`, in that order.
fn pick(r: &Row, fields: &[String]) -> Row {
    let cols = fields
        .iter()
        .filter_map(|f| r.get(f).map(|v| (Arc::from(f.as_str()), v.clone())))
        .collect();
    Row::new(cols, r.meta.clone(), r.timestamp)
}

/// A compiled `dataTemplate`.
#[derive(Debug)]
pub struct Template {
    env: minijinja::Environment<'static>,
}

impl Template {
    pub fn compile(source: &str) -> Result<Self, String> {
        let translated = translate_go_template(source);
        let mut env = minijinja::Environment::new();
        env.add_template_owned("t", translated)
            .map_err(|e| e.to_string())?;
        Ok(Template { env })
    }

    pub fn render(&self, data: &Value, single: bool) -> Result<String, String> {
        let t = self.env.get_template("t").map_err(|e| e.to_string())?;
        let json = go_numbers(to_json(data));
        let mut ctx = serde_json::Map::new();
        if single {
            if let serde_json::Value::Object(o) = &json {
                ctx.extend(o.clone());
            }
        }
        ctx.insert("data".to_string(), json);
        t.render(minijinja::Value::from_serialize(&ctx))
            .map_err(|e| format!("template render error: {e}"))
    }
}

/// Whole floats become integers, so a template prints `25` for 25.0 as Go's templates
/// and `json` do (serde would print `25.0`).
fn go_numbers(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                serde_json::Value::from(f as i64)
            }
            _ => serde_json::Value::Number(n),
        },
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(go_numbers).collect())
        }
        serde_json::Value::Object(o) => {
            serde_json::Value::Object(o.into_iter().map(|(k, v)| (k, go_numbers(v))).collect())
        }
        other => other,
    }
}

/// Rewrites the common Go-template forms into Jinja.
pub fn translate_go_template(s: &str) -> String {
    // Patterns are constants; a failure to compile them is impossible, but degrade to
    // the untranslated text rather than panic.
    let json_dot = Regex::new(r"\{\{-?\s*json\s+\.\s*-?\}\}");
    let json_field = Regex::new(r"\{\{-?\s*json\s+\.([A-Za-z_][A-Za-z0-9_.]*)\s*-?\}\}");
    let dot = Regex::new(r"\{\{-?\s*\.\s*-?\}\}");
    let field = Regex::new(r"\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_.]*)\s*-?\}\}");
    let (Ok(json_dot), Ok(json_field), Ok(dot), Ok(field)) = (json_dot, json_field, dot, field)
    else {
        return s.to_string();
    };
    let s = json_dot.replace_all(s, "{{ data|tojson }}");
    let s = json_field.replace_all(&s, "{{ $1|tojson }}");
    let s = dot.replace_all(&s, "{{ data }}");
    field.replace_all(&s, "{{ $1 }}").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(json: &str) -> CommonProps {
        let v = tributary_core::json::parse(json).expect("json");
        let Value::Object(o) = v else { panic!() };
        CommonProps::parse(
            "log",
            &o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        )
        .expect("props")
    }

    fn rows() -> Emission {
        let r = |t: i64| {
            Row::new(
                vec![
                    (Arc::from("t"), Value::Int(t)),
                    (Arc::from("n"), Value::str("a")),
                    (Arc::from("f"), Value::Float(25.0)),
                ],
                Default::default(),
                0,
            )
        };
        Emission::Rows(Rows::Many(Arc::new(vec![r(1), r(2)])))
    }

    #[test]
    fn send_single_and_fields() {
        let p = props(r#"{"sendSingle":true,"fields":["t"]}"#);
        let out: Vec<String> = p
            .shape_all(rows())
            .into_iter()
            .map(|d| d.expect("ok").to_text())
            .collect();
        assert_eq!(out, [r#"{"t":1}"#, r#"{"t":2}"#]);
        let p = props(r#"{}"#);
        let out: Vec<String> = p
            .shape_all(rows())
            .into_iter()
            .map(|d| d.expect("ok").to_text())
            .collect();
        assert_eq!(out, [r#"[{"f":25,"n":"a","t":1},{"f":25,"n":"a","t":2}]"#]);
    }

    #[test]
    fn go_templates_are_translated() {
        let p = props(r#"{"sendSingle":true,"dataTemplate":"temp is {{.t}} {{json .}} {{.f}}"}"#);
        let out: Vec<String> = p
            .shape_all(rows())
            .into_iter()
            .map(|d| d.expect("ok").to_text())
            .collect();
        assert_eq!(out[0], r#"temp is 1 {"f":25,"n":"a","t":1} 25"#);
    }

    #[test]
    fn omit_if_empty() {
        let p = props(r#"{"omitIfEmpty":true}"#);
        assert!(p
            .shape_all(Emission::Rows(Rows::Many(Arc::new(vec![]))))
            .is_empty());
    }

    #[test]
    fn bad_props_name_the_property() {
        let v = tributary_core::json::parse(r#"{"sendSingle":3}"#).expect("json");
        let Value::Object(o) = v else { panic!() };
        let e = CommonProps::parse(
            "log",
            &o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        )
        .expect_err("bad");
        assert!(e.to_string().contains("sendSingle"), "{e}");
    }
}
