//! REST requests from protobuf methods, eKuiper's way.
//!
//! Without a `google.api.http` option a method is `POST <address>/<rpc>` with the
//! request message as proto JSON (lowerCamelCase or `json_name` keys, 64-bit integers
//! as strings); a `google.protobuf.StringValue` input is sent as its raw text. With the
//! option: the verb and path template it names (`/v1/{shelf}/books`,
//! `/v1/{name=messages/*}`), the `body` (`*`, one field, or none), and every other field
//! as a query parameter (nested messages flattened as `sub.field`).

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MethodDescriptor, ReflectMessage, SerializeOptions,
    Value as Pv,
};

/// One piece of a path template.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    /// A top-level field; with `prefix`, its value must start with it (`{name=messages/*}`).
    Field {
        name: String,
        prefix: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    None,
    All,
    Field(String),
}

/// How one method becomes an HTTP request.
#[derive(Debug, Clone)]
pub struct HttpMapping {
    pub verb: reqwest::Method,
    path: Vec<Segment>,
    body: Body,
    /// Raw text body (`google.protobuf.StringValue` input without an option).
    raw_string: bool,
    /// Fields sent as query parameters.
    query: Vec<String>,
}

/// A built request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub verb: reqwest::Method,
    /// Path and query, appended to the interface's address.
    pub uri: String,
    pub body: Option<String>,
}

fn parse_template(
    t: &str,
    input: &prost_reflect::MessageDescriptor,
) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Segment::Literal(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("invalid uri {t} in http option: unclosed {{"))?
            + open;
        let var = &rest[open + 1..close];
        let (name, prefix) = match var.split_once('=') {
            None => (var, None),
            Some((n, pattern)) => match pattern.strip_suffix('*') {
                Some(p) if !p.contains('*') => (n, Some(p.to_string())),
                _ => return Err(format!("invalid uri {t} in http option")),
            },
        };
        if input.get_field_by_name(name).is_none() {
            return Err(format!(
                "invalid uri {t} in http option, {name} field not found"
            ));
        }
        out.push(Segment::Field {
            name: name.to_string(),
            prefix,
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Segment::Literal(rest.to_string()));
    }
    Ok(out)
}

fn is_string_value(m: &prost_reflect::MessageDescriptor) -> bool {
    m.full_name() == "google.protobuf.StringValue"
}

impl HttpMapping {
    /// The mapping of `method`, from its `google.api.http` option when it has one.
    pub fn of(method: &MethodDescriptor) -> Result<HttpMapping, String> {
        let input = method.input();
        let pool = method.parent_pool();
        let rule = pool
            .get_extension_by_name("google.api.http")
            .and_then(|ext| {
                let opts = method.options();
                opts.has_extension(&ext)
                    .then(|| opts.get_extension(&ext).into_owned())
            });
        let Some(Pv::Message(rule)) = rule else {
            return Ok(HttpMapping {
                verb: reqwest::Method::POST,
                path: vec![Segment::Literal(format!("/{}", method.name()))],
                body: Body::All,
                raw_string: is_string_value(&input),
                query: Vec::new(),
            });
        };
        let text = |name: &str| {
            rule.get_field_by_name(name)
                .and_then(|v| v.as_str().map(str::to_string))
                .filter(|s| !s.is_empty())
        };
        for unsupported in ["custom", "additional_bindings"] {
            let set = rule
                .descriptor()
                .get_field_by_name(unsupported)
                .is_some_and(|f| rule.has_field(&f));
            if set {
                return Err(format!(
                    "unsupported option {unsupported} in the http rule of {}",
                    method.name()
                ));
            }
        }
        let (verb, template) = [
            ("get", reqwest::Method::GET),
            ("put", reqwest::Method::PUT),
            ("post", reqwest::Method::POST),
            ("delete", reqwest::Method::DELETE),
            ("patch", reqwest::Method::PATCH),
        ]
        .into_iter()
        .find_map(|(k, m)| text(k).map(|t| (m, t)))
        .ok_or_else(|| format!("the http rule of {} names no verb", method.name()))?;
        let path = parse_template(&template, &input)?;
        let body = match text("body").as_deref() {
            None => Body::None,
            Some("*") => Body::All,
            Some(f) => {
                if input.get_field_by_name(f).is_none() {
                    return Err(format!("invalid body {f}, field not found"));
                }
                Body::Field(f.to_string())
            }
        };
        let in_path: Vec<&str> = path
            .iter()
            .filter_map(|s| match s {
                Segment::Field { name, .. } => Some(name.as_str()),
                Segment::Literal(_) => None,
            })
            .collect();
        let query = if body == Body::All {
            Vec::new()
        } else {
            input
                .fields()
                .map(|f| f.name().to_string())
                .filter(|n| !in_path.contains(&n.as_str()) && Body::Field(n.clone()) != body)
                .collect()
        };
        Ok(HttpMapping {
            verb,
            path,
            body,
            raw_string: false,
            query,
        })
    }

    /// The request for `msg` (the method's input).
    pub fn request(&self, msg: &DynamicMessage) -> Result<HttpRequest, String> {
        let mut uri = String::new();
        let mut rest = msg.clone();
        for s in &self.path {
            match s {
                Segment::Literal(l) => uri.push_str(l),
                Segment::Field { name, prefix } => {
                    let v = msg
                        .get_field_by_name(name)
                        .ok_or_else(|| format!("field {name} not found"))?;
                    let text = scalar_text(&v).ok_or_else(|| {
                        format!("invalid field {name} as http option, must be a scalar")
                    })?;
                    if let Some(p) = prefix {
                        if !text.starts_with(p.as_str()) {
                            return Err(format!(
                                "invalid field {name}({text}) as http option, must have prefix {p}"
                            ));
                        }
                        uri.push_str(&text);
                    } else {
                        uri.push_str(&path_encode(&text));
                    }
                    rest.clear_field_by_name(name);
                }
            }
        }
        let mut params = Vec::new();
        for name in &self.query {
            if let Some(f) = msg.descriptor().get_field_by_name(name) {
                flatten(&f, &msg.get_field(&f), name, &mut params);
            }
        }
        if !params.is_empty() {
            uri.push('?');
            let q: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
                .collect();
            uri.push_str(&q.join("&"));
        }
        let body = match &self.body {
            Body::None => None,
            Body::All if self.raw_string => Some(
                rest.get_field_by_name("value")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            ),
            Body::All => Some(proto_json(&rest)?),
            Body::Field(f) => {
                let fd = msg
                    .descriptor()
                    .get_field_by_name(f)
                    .ok_or_else(|| format!("invalid body {f}, field not found"))?;
                Some(match msg.get_field(&fd).as_ref() {
                    Pv::Message(m) => proto_json(m)?,
                    other => serde_json::to_string(&scalar_json(other))
                        .map_err(|e| format!("body {f}: {e}"))?,
                })
            }
        };
        Ok(HttpRequest {
            verb: self.verb.clone(),
            uri,
            body,
        })
    }
}

/// The canonical proto3 JSON of a message (defaults left out).
pub fn proto_json(m: &DynamicMessage) -> Result<String, String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    m.serialize_with_options(&mut ser, &SerializeOptions::new())
        .map_err(|e| format!("encoding {} as JSON: {e}", m.descriptor().name()))?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

fn scalar_json(v: &Pv) -> serde_json::Value {
    match scalar_text(v) {
        Some(t) => match v {
            Pv::String(_) => serde_json::Value::String(t),
            _ => serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)),
        },
        None => serde_json::Value::Null,
    }
}

fn scalar_text(v: &Pv) -> Option<String> {
    Some(match v {
        Pv::Bool(b) => b.to_string(),
        Pv::I32(i) => i.to_string(),
        Pv::I64(i) => i.to_string(),
        Pv::U32(u) => u.to_string(),
        Pv::U64(u) => u.to_string(),
        Pv::F32(f) => f.to_string(),
        Pv::F64(f) => f.to_string(),
        Pv::String(s) => s.clone(),
        Pv::EnumNumber(n) => n.to_string(),
        Pv::Bytes(_) | Pv::Message(_) | Pv::List(_) | Pv::Map(_) => return None,
    })
}

/// Query parameters of one field: scalars as `name=value`, messages flattened.
fn flatten(f: &FieldDescriptor, v: &Pv, name: &str, out: &mut Vec<(String, String)>) {
    match v {
        Pv::Message(m) if matches!(f.kind(), Kind::Message(_)) => {
            for inner in m.descriptor().fields() {
                flatten(
                    &inner,
                    &m.get_field(&inner),
                    &format!("{name}.{}", inner.name()),
                    out,
                );
            }
        }
        Pv::List(items) => {
            for i in items {
                if let Some(t) = scalar_text(i) {
                    out.push((name.to_string(), t));
                }
            }
        }
        other => {
            if let Some(t) = scalar_text(other) {
                out.push((name.to_string(), t));
            }
        }
    }
}

/// A path segment: `/`, `?`, `#`, spaces and the like percent-encoded (a `+` in a
/// path is a literal plus, so form encoding would be wrong here).
fn path_encode(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'/')
        .add(b'%');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::args_to_message;
    use tributary_core::Value;

    const MESSAGING: &str = r#"
syntax = "proto3";
package messaging;
import "google/api/annotations.proto";
import "google/protobuf/wrappers.proto";
service Messaging {
  rpc GetMessage(GetMessageRequest) returns (Message) { option (google.api.http) = { get: "/v1/{name=messages/*}" }; }
  rpc SearchMessage(SearchMessageRequest) returns (Message) { option (google.api.http) = { get:"/v1/messages/filter/{message_id}" }; }
  rpc UpdateMessage(UpdateMessageRequest) returns (Message) { option (google.api.http) = { put: "/v1/messages/{message_id}" body: "message" }; }
  rpc PatchMessage(PatchMessageRequest) returns (Message) { option (google.api.http) = { patch: "/v1/messages/{message_id}" body: "*" }; }
  rpc Plain(PatchMessageRequest) returns (Message) {}
  rpc Encoded(google.protobuf.StringValue) returns (google.protobuf.StringValue) {}
}
message GetMessageRequest { string name = 1; }
message Message { string text = 1; }
message SearchMessageRequest { message SubMessage { string subfield = 1; } string message_id = 1; int64 revision = 2; SubMessage sub = 3; }
message UpdateMessageRequest { string message_id = 1; Message message = 2; }
message PatchMessageRequest { string message_id = 1; string text = 2; }
"#;

    fn call(rpc: &str, args: &[Value]) -> Result<HttpRequest, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("m.proto"), MESSAGING).expect("write");
        let pool = crate::schema::compile(dir.path(), "m.proto").expect("compile");
        let svc = pool
            .get_service_by_name("messaging.Messaging")
            .expect("service");
        let method = svc.methods().find(|m| m.name() == rpc).expect("method");
        let mapping = HttpMapping::of(&method)?;
        let msg = args_to_message(&method.input(), args)?;
        mapping.request(&msg)
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn ekuipers_expected_requests() {
        let r = call("GetMessage", &[Value::str("messages/123456")]).expect("get");
        assert_eq!(
            (r.verb, r.uri.as_str(), r.body),
            (reqwest::Method::GET, "/v1/messages/123456", None)
        );
        let e = call("GetMessage", &[Value::str("message/1")]).expect_err("prefix");
        assert!(e.contains("must have prefix messages/"), "{e}");
        let r = call(
            "SearchMessage",
            &[
                Value::str("123456"),
                Value::Int(2),
                obj(&[("subfield", Value::str("foo"))]),
            ],
        )
        .expect("search");
        assert_eq!(
            r.uri,
            "/v1/messages/filter/123456?revision=2&sub.subfield=foo"
        );
        let r = call(
            "UpdateMessage",
            &[Value::str("123456"), obj(&[("text", Value::str("Hi!"))])],
        )
        .expect("put");
        assert_eq!(r.verb, reqwest::Method::PUT);
        assert_eq!(r.uri, "/v1/messages/123456");
        assert_eq!(r.body.as_deref(), Some(r#"{"text":"Hi!"}"#));
        let r = call("PatchMessage", &[Value::str("123456"), Value::str("Hi!")]).expect("patch");
        assert_eq!(
            (r.verb, r.uri.as_str()),
            (reqwest::Method::PATCH, "/v1/messages/123456")
        );
        assert_eq!(r.body.as_deref(), Some(r#"{"text":"Hi!"}"#));
        // No option: POST /<rpc> with proto JSON (lowerCamelCase keys).
        let r = call("Plain", &[Value::str("7"), Value::str("x")]).expect("plain");
        assert_eq!((r.verb, r.uri.as_str()), (reqwest::Method::POST, "/Plain"));
        assert_eq!(r.body.as_deref(), Some(r#"{"messageId":"7","text":"x"}"#));
        // A StringValue input is sent as its raw text.
        let r = call("Encoded", &[Value::str(r#"{"name":"n"}"#)]).expect("encoded");
        assert_eq!(r.body.as_deref(), Some(r#"{"name":"n"}"#));
    }
}
