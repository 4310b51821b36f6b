//! InfluxDB line protocol: one row as one point
//! (`measurement,tag=v field=1i,other="x" 1700000000000`), tag values from templates
//! over the row's columns, and the point's time from a column or the clock.

use tributary_guest::{json, Field, Value};

/// A tag value: literal text and `{{.column}}` references, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Column(String),
}

impl Template {
    /// Parses `text`; `{{.name}}` (spaces allowed inside the braces) is the only
    /// template syntax, anything else between `{{` and `}}` is refused.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("{{") {
            if at > 0 {
                pieces.push(Piece::Text(rest[..at].to_string()));
            }
            let after = &rest[at + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("{text:?}: a {{{{ is not closed by }}}}"))?;
            let inner = after[..end].trim();
            let name = inner
                .strip_prefix('.')
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .ok_or_else(|| {
                    format!(
                        "{text:?}: {{{{{inner}}}}} is not supported: a tag template may only \
                         name a column, as {{{{.column}}}}"
                    )
                })?;
            pieces.push(Piece::Column(name.to_string()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    /// The columns it reads.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Column(c) => Some(c.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The value for `row`: a column that is absent or null renders as nothing.
    pub fn render(&self, row: &[Field]) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Column(c) => match column(row, c) {
                    None | Some(Value::Null) => {}
                    Some(Value::Str(s)) => out.push_str(s),
                    Some(v) => out.push_str(&json::to_json(v.clone()).to_string()),
                },
            }
        }
        out
    }
}

/// The timestamp precision: what the number in a point means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Ns,
    Us,
    Ms,
    S,
}

impl Precision {
    pub fn parse(s: &str) -> Result<Precision, String> {
        match s {
            "ns" => Ok(Precision::Ns),
            "us" => Ok(Precision::Us),
            "ms" => Ok(Precision::Ms),
            "s" => Ok(Precision::S),
            other => Err(format!("precision must be ns, us, ms or s, not {other:?}")),
        }
    }

    /// The name InfluxDB's `/write` takes (`n`, `u`, `ms`, `s`).
    pub fn query_name(self) -> &'static str {
        match self {
            Precision::Ns => "n",
            Precision::Us => "u",
            Precision::Ms => "ms",
            Precision::S => "s",
        }
    }

    /// Nanoseconds since the epoch in this precision.
    pub fn of_nanos(self, ns: i64) -> i64 {
        ns / match self {
            Precision::Ns => 1,
            Precision::Us => 1_000,
            Precision::Ms => 1_000_000,
            Precision::S => 1_000_000_000,
        }
    }
}

/// How points are written: everything but the connection.
#[derive(Debug, Clone)]
pub struct Shape {
    pub measurement: String,
    pub tags: Vec<(String, Template)>,
    /// The columns the tags read: written as tags only, not also as fields (InfluxDB
    /// would then show the field as `device_1` beside the tag `device`).
    pub tag_columns: Vec<String>,
    pub precision: Precision,
    pub ts_field: Option<String>,
}

fn column<'a>(row: &'a [Field], name: &str) -> Option<&'a Value> {
    row.iter().find(|f| f.name == name).map(|f| &f.value)
}

/// Escapes the characters that end a measurement, key or tag value.
fn escape(out: &mut String, s: &str, also_equals: bool) {
    for c in s.chars() {
        if c == ',' || c == ' ' || (also_equals && c == '=') {
            out.push('\\');
        }
        if c == '\n' {
            out.push_str("\\n");
            continue;
        }
        out.push(c);
    }
}

fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Appends a field's value in line protocol; false for a value a point cannot hold
/// (null, NaN, an infinity), which leaves the field out of the point.
fn field_value(out: &mut String, v: Value) -> bool {
    match v {
        Value::Null => return false,
        Value::Int(i) => {
            out.push_str(&i.to_string());
            out.push('i');
        }
        Value::Float(f) if !f.is_finite() => return false,
        Value::Float(f) => out.push_str(&f.to_string()),
        Value::Boolean(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Str(s) => quoted(out, &s),
        other => match json::to_json(other) {
            serde_json::Value::String(s) => quoted(out, &s),
            j => quoted(out, &j.to_string()),
        },
    }
    true
}

impl Shape {
    /// The point's time: the `tsFieldName` column's (in the precision), or `now_ns`.
    fn time(&self, row: &[Field], now_ns: i64) -> Result<i64, String> {
        let Some(name) = &self.ts_field else {
            return Ok(self.precision.of_nanos(now_ns));
        };
        match column(row, name) {
            None => Err(format!("the time field {name} is not in the row")),
            Some(Value::Int(i)) => Ok(*i),
            Some(Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
            Some(Value::Datetime(ns)) => Ok(self.precision.of_nanos(*ns)),
            Some(other) => Err(format!(
                "the time field {name} is not an integer timestamp: {}",
                json::to_json(other.clone())
            )),
        }
    }

    /// Appends `row` as one line (with its newline).
    pub fn point(&self, out: &mut String, row: Vec<Field>, now_ns: i64) -> Result<(), String> {
        let time = self.time(&row, now_ns)?;
        let start = out.len();
        escape(out, &self.measurement, false);
        for (key, template) in &self.tags {
            let value = template.render(&row);
            // Line protocol has no empty tag value: such a tag is left out.
            if value.is_empty() {
                continue;
            }
            out.push(',');
            escape(out, key, true);
            out.push('=');
            escape(out, &value, true);
        }
        let mut sep = ' ';
        for f in row {
            if self.tag_columns.contains(&f.name) {
                continue;
            }
            let at = out.len();
            out.push(sep);
            escape(out, &f.name, true);
            out.push('=');
            if field_value(out, f.value) {
                sep = ',';
            } else {
                out.truncate(at);
            }
        }
        if sep == ' ' {
            out.truncate(start);
            return Err("a row without a non-null field cannot be a point".into());
        }
        out.push(' ');
        out.push_str(&time.to_string());
        out.push('\n');
        Ok(())
    }
}
