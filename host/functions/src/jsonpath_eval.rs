//! A JSONPath evaluator with the result shape of the Go library eKuiper uses
//! (`PaesslerAG/jsonpath`): a path made only of keys and indexes yields the value itself
//! and fails on a missing key; once a wildcard, slice, union, filter or `..` appears,
//! the result is an array of every match and missing keys are simply skipped.
//!
//! Supported: `$`, `.key`, `['key']`, `["key"]`, `[key]`, `[0]`, `[-1]`, `[*]`, `.*`,
//! `..`, `[a,b]`, `[start:end:step]`, and filters `[?(@.age > 30)]` / `[? @.age>30]`
//! with `== != < <= > >= =~ && || !`, `+ - * / %`, parentheses, numbers, strings,
//! `true`, `false`, `null` and `@`/`$` paths.

use crate::args::{go_string, strict_eq};
use tributary_core::Value;

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(i64),
    Wildcard,
    Union(Vec<Sel>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Expr),
    Descend(Box<Step>),
}

#[derive(Debug, Clone)]
enum Sel {
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone)]
enum Expr {
    Lit(Value),
    Path { root: bool, steps: Vec<Step> },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(Box<Expr>, String, Box<Expr>),
}

/// Evaluates `path` against `root`.
pub fn eval(path: &str, root: &Value) -> Result<Value, String> {
    let mut p = Parser::new(path);
    p.ws();
    let rooted = match p.peek() {
        Some('$') => {
            p.bump();
            true
        }
        Some('@') => {
            p.bump();
            true
        }
        _ => false,
    };
    let mut steps = Vec::new();
    if !rooted {
        // A bare `a.b` reads as `$.a.b`, as gval resolves variables against the data.
        steps.push(Step::Key(p.ident()?));
    }
    steps.extend(p.steps()?);
    p.ws();
    if let Some(c) = p.peek() {
        return Err(format!("unexpected {c:?} in json path {path}"));
    }
    run(&steps, root, root)
}

fn run(steps: &[Step], start: &Value, root: &Value) -> Result<Value, String> {
    let mut single: Option<Value> = Some(start.clone());
    let mut multi: Vec<Value> = Vec::new();
    for step in steps {
        match single.take() {
            Some(v) if is_plain(step) => single = Some(plain(step, &v)?),
            Some(v) => multi = apply(step, &v, root),
            None => {
                multi = multi.iter().flat_map(|v| apply(step, v, root)).collect();
            }
        }
    }
    Ok(single.unwrap_or_else(|| Value::array(multi)))
}

fn is_plain(step: &Step) -> bool {
    matches!(step, Step::Key(_) | Step::Index(_))
}

fn plain(step: &Step, v: &Value) -> Result<Value, String> {
    match (step, v) {
        (Step::Key(k), Value::Object(o)) => {
            o.get(k).cloned().ok_or_else(|| format!("unknown key {k}"))
        }
        (Step::Index(i), Value::Array(a)) => {
            index(a, *i).cloned().ok_or_else(|| format!("index {i} out of bounds"))
        }
        (Step::Index(i), Value::Object(o)) => o
            .get(&i.to_string())
            .cloned()
            .ok_or_else(|| format!("unknown key {i}")),
        (Step::Key(k), Value::Array(_)) => {
            Err(format!("could not select value, invalid key: {k}"))
        }
        (_, other) => Err(format!(
            "unsupported value type {} for select, expected map[string]interface{{}} or []interface{{}}",
            other.type_name()
        )),
    }
}

fn index(a: &[Value], i: i64) -> Option<&Value> {
    let i = if i < 0 { i + a.len() as i64 } else { i };
    usize::try_from(i).ok().and_then(|i| a.get(i))
}

/// Applies a step in "many results" mode: no errors, just fewer matches.
fn apply(step: &Step, v: &Value, root: &Value) -> Vec<Value> {
    match step {
        Step::Key(_) | Step::Index(_) => plain(step, v).into_iter().collect(),
        Step::Wildcard => children(v),
        Step::Union(sels) => sels
            .iter()
            .filter_map(|s| match s {
                Sel::Key(k) => plain(&Step::Key(k.clone()), v).ok(),
                Sel::Index(i) => plain(&Step::Index(*i), v).ok(),
            })
            .collect(),
        Step::Slice(start, end, step) => match v {
            Value::Array(a) => slice(a, *start, *end, *step),
            _ => Vec::new(),
        },
        Step::Filter(e) => children(v)
            .into_iter()
            .filter(|c| truthy(&eval_expr(e, c, root)))
            .collect(),
        Step::Descend(inner) => {
            let mut nodes = Vec::new();
            descendants(v, &mut nodes);
            nodes.iter().flat_map(|n| apply(inner, n, root)).collect()
        }
    }
}

fn children(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.to_vec(),
        Value::Object(o) => o.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The node itself, then everything below it, depth first.
fn descendants(v: &Value, out: &mut Vec<Value>) {
    out.push(v.clone());
    for c in children(v) {
        descendants(&c, out);
    }
}

fn slice(a: &[Value], start: Option<i64>, end: Option<i64>, step: Option<i64>) -> Vec<Value> {
    let len = a.len() as i64;
    let norm = |i: i64| if i < 0 { (i + len).max(0) } else { i.min(len) };
    let step = step.unwrap_or(1);
    if step == 0 {
        return Vec::new();
    }
    let (s, e) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
    let mut out = Vec::new();
    if step > 0 {
        let mut i = s;
        while i < e {
            out.push(a[i as usize].clone());
            i += step;
        }
    } else {
        let mut i = e - 1;
        while i >= s {
            out.push(a[i as usize].clone());
            i += step;
        }
    }
    out
}

fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn eval_expr(e: &Expr, current: &Value, root: &Value) -> Value {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Path {
            root: from_root,
            steps,
        } => {
            let start = if *from_root { root } else { current };
            run(steps, start, root).unwrap_or(Value::Null)
        }
        Expr::Not(x) => Value::Bool(!truthy(&eval_expr(x, current, root))),
        Expr::Neg(x) => match eval_expr(x, current, root) {
            Value::Int(i) => Value::Int(i.wrapping_neg()),
            Value::Float(f) => Value::Float(-f),
            _ => Value::Null,
        },
        Expr::Bin(l, op, r) => {
            let a = eval_expr(l, current, root);
            if op == "&&" {
                return Value::Bool(truthy(&a) && truthy(&eval_expr(r, current, root)));
            }
            if op == "||" {
                return Value::Bool(truthy(&a) || truthy(&eval_expr(r, current, root)));
            }
            binary(&a, op, &eval_expr(r, current, root))
        }
    }
}

fn binary(a: &Value, op: &str, b: &Value) -> Value {
    let nums = a.as_f64().zip(b.as_f64());
    match op {
        "==" => Value::Bool(match nums {
            Some((x, y)) => x == y,
            None => strict_eq(a, b),
        }),
        "!=" => Value::Bool(match nums {
            Some((x, y)) => x != y,
            None => !strict_eq(a, b),
        }),
        "<" | "<=" | ">" | ">=" => {
            let ord = match (nums, a, b) {
                (Some((x, y)), _, _) => x.partial_cmp(&y),
                (None, Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                _ => None,
            };
            Value::Bool(ord.is_some_and(|o| match op {
                "<" => o.is_lt(),
                "<=" => o.is_le(),
                ">" => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        "=~" => match (a, b) {
            (Value::String(s), Value::String(p)) => {
                Value::Bool(regex::Regex::new(p).is_ok_and(|re| re.is_match(s)))
            }
            _ => Value::Bool(false),
        },
        "+" if matches!((a, b), (Value::String(_), _) | (_, Value::String(_))) => {
            Value::from(format!("{}{}", go_string(a), go_string(b)))
        }
        _ => match (a, b, nums) {
            (Value::Int(x), Value::Int(y), _) if op != "/" => match op {
                "+" => Value::Int(x.wrapping_add(*y)),
                "-" => Value::Int(x.wrapping_sub(*y)),
                "*" => Value::Int(x.wrapping_mul(*y)),
                _ => x.checked_rem(*y).map_or(Value::Null, Value::Int),
            },
            (_, _, Some((x, y))) => Value::Float(match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x / y,
                _ => x % y,
            }),
            _ => Value::Null,
        },
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser { src, pos: 0 }
    }
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }
    fn peek2(&self) -> Option<char> {
        self.src[self.pos..].chars().nth(1)
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    fn eat(&mut self, s: &str) -> bool {
        if self.src[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    fn err(&self, what: &str) -> String {
        format!("parsing error: {} :1:{} - {what}", self.src, self.pos + 1)
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        if start == self.pos {
            return Err(self.err("expected a key"));
        }
        Ok(self.src[start..self.pos].to_string())
    }

    /// Steps after `$` or `@`, up to whatever cannot continue a path.
    fn steps(&mut self) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        loop {
            if self.eat("..") {
                let inner = match self.peek() {
                    Some('*') => {
                        self.bump();
                        Step::Wildcard
                    }
                    Some('[') => self.bracket()?,
                    _ => Step::Key(self.ident()?),
                };
                steps.push(Step::Descend(Box::new(inner)));
            } else if self.peek() == Some('.') {
                self.bump();
                if self.peek() == Some('*') {
                    self.bump();
                    steps.push(Step::Wildcard);
                } else {
                    steps.push(Step::Key(self.ident()?));
                }
            } else if self.peek() == Some('[') {
                steps.push(self.bracket()?);
            } else {
                return Ok(steps);
            }
        }
    }

    fn bracket(&mut self) -> Result<Step, String> {
        self.bump();
        self.ws();
        let step = if self.peek() == Some('*') {
            self.bump();
            Step::Wildcard
        } else if self.peek() == Some('?') {
            self.bump();
            self.ws();
            Step::Filter(self.expr()?)
        } else {
            let first = self.slice_part()?;
            self.ws();
            if self.peek() == Some(':') {
                let start = first.map(|s| self.sel_int(s)).transpose()?;
                self.bump();
                let end = self.slice_part()?.map(|s| self.sel_int(s)).transpose()?;
                let mut step = None;
                self.ws();
                if self.peek() == Some(':') {
                    self.bump();
                    step = self.slice_part()?.map(|s| self.sel_int(s)).transpose()?;
                }
                Step::Slice(start, end, step)
            } else {
                let mut sels = vec![first.ok_or_else(|| self.err("empty brackets"))?];
                while self.peek() == Some(',') {
                    self.bump();
                    sels.push(self.slice_part()?.ok_or_else(|| self.err("empty union"))?);
                    self.ws();
                }
                if sels.len() == 1 {
                    match sels.remove(0) {
                        Sel::Key(k) => Step::Key(k),
                        Sel::Index(i) => Step::Index(i),
                    }
                } else {
                    Step::Union(sels)
                }
            }
        };
        self.ws();
        if self.bump() != Some(']') {
            return Err(self.err("expected ]"));
        }
        Ok(step)
    }

    fn sel_int(&self, s: Sel) -> Result<i64, String> {
        match s {
            Sel::Index(i) => Ok(i),
            Sel::Key(_) => Err(self.err("expected an integer in a slice")),
        }
    }

    /// One member of a bracket: an integer, a quoted key or a bare key; none if empty.
    fn slice_part(&mut self) -> Result<Option<Sel>, String> {
        self.ws();
        match self.peek() {
            Some('\'') | Some('"') => Ok(Some(Sel::Key(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.bump();
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
                let text = &self.src[start..self.pos];
                text.parse()
                    .map(|i| Some(Sel::Index(i)))
                    .map_err(|_| self.err("bad index"))
            }
            Some(c) if c.is_alphanumeric() || c == '_' => Ok(Some(Sel::Key(self.ident()?))),
            _ => Ok(None),
        }
    }

    fn quoted(&mut self) -> Result<String, String> {
        let Some(q) = self.bump() else {
            return Err(self.err("expected a string"));
        };
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string")),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => return Err(self.err("unterminated string")),
                },
                Some(c) if c == q => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.binary_level(0)
    }

    /// Precedence climbing over `|| && (comparisons) (+ -) (* / %)`.
    fn binary_level(&mut self, level: usize) -> Result<Expr, String> {
        const LEVELS: [&[&str]; 5] = [
            &["||"],
            &["&&"],
            &["==", "!=", "<=", ">=", "=~", "<", ">"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary_level(level + 1)?;
        loop {
            self.ws();
            let Some(op) = LEVELS[level].iter().find(|op| self.eat(op)) else {
                return Ok(left);
            };
            let right = self.binary_level(level + 1)?;
            left = Expr::Bin(Box::new(left), op.to_string(), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.ws();
        match self.peek() {
            Some('!') if self.peek2() != Some('=') => {
                self.bump();
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some('-') if !self.peek2().is_some_and(|c| c.is_ascii_digit()) => {
                self.bump();
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Some('(') => {
                self.bump();
                let e = self.expr()?;
                self.ws();
                if self.bump() != Some(')') {
                    return Err(self.err("expected )"));
                }
                Ok(e)
            }
            Some(c @ ('@' | '$')) => {
                self.bump();
                Ok(Expr::Path {
                    root: c == '$',
                    steps: self.steps()?,
                })
            }
            Some('\'') | Some('"') => Ok(Expr::Lit(Value::from(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() => match self.ident()?.as_str() {
                "true" => Ok(Expr::Lit(Value::Bool(true))),
                "false" => Ok(Expr::Lit(Value::Bool(false))),
                "null" | "nil" => Ok(Expr::Lit(Value::Null)),
                other => Err(self.err(&format!("unknown name {other}"))),
            },
            _ => Err(self.err("expected an operand")),
        }
    }

    fn number(&mut self) -> Result<Expr, String> {
        let start = self.pos;
        self.bump();
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E'))
        {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Expr::Lit(Value::Int(i)));
        }
        text.parse::<f64>()
            .map(|f| Expr::Lit(Value::Float(f)))
            .map_err(|_| self.err("bad number"))
    }
}

#[cfg(test)]
mod tests {
    use super::eval;
    use crate::testutil::j;
    use tributary_core::Value;

    fn sample() -> Value {
        j(r#"{
          "name": {"first": "Tom", "last": "Anderson"},
          "age": 37,
          "children": ["Sara", "Alex", "Jack"],
          "fav.movie": "Deer Hunter",
          "friends": [
            {"first": "Dale", "last": "Murphy", "age": 44},
            {"first": "Roger", "last": "Craig", "age": 68},
            {"first": "Jane", "last": "Murphy", "age": 47}
          ]
        }"#)
    }

    #[test]
    fn plain_paths_yield_values() {
        let d = sample();
        assert_eq!(eval("$.age", &d), Ok(Value::Int(37)));
        assert_eq!(eval("$.friends[0].first", &d), Ok(Value::str("Dale")));
        assert_eq!(eval("$.children[-1]", &d), Ok(Value::str("Jack")));
        assert_eq!(eval("$['fav.movie']", &d), Ok(Value::str("Deer Hunter")));
        assert_eq!(eval("$.name[\"last\"]", &d), Ok(Value::str("Anderson")));
        assert_eq!(eval("$", &d), Ok(d.clone()));
        assert_eq!(eval("$.nope", &d), Err("unknown key nope".to_string()));
        assert_eq!(
            eval("$.children[5]", &d),
            Err("index 5 out of bounds".to_string())
        );
    }

    #[test]
    fn multi_paths_yield_arrays() {
        let d = sample();
        assert_eq!(
            eval("$.friends[*].last", &d),
            Ok(j(r#"["Murphy","Craig","Murphy"]"#))
        );
        assert_eq!(
            eval("$.friends[? @.age>45].first", &d),
            Ok(j(r#"["Roger","Jane"]"#))
        );
        assert_eq!(
            eval("$.friends[?(@.age > 60 || @.first == 'Dale')].first", &d),
            Ok(j(r#"["Dale","Roger"]"#))
        );
        assert_eq!(eval("$.children[0:2]", &d), Ok(j(r#"["Sara","Alex"]"#)));
        assert_eq!(eval("$.children[0,2]", &d), Ok(j(r#"["Sara","Jack"]"#)));
        assert_eq!(
            eval("$..last", &d),
            Ok(j(r#"["Murphy","Craig","Murphy","Anderson"]"#))
        );
        assert_eq!(eval("$.friends[?(@.age > 100)]", &d), Ok(j("[]")));
        assert_eq!(eval("$.friends[*].nope", &d), Ok(j("[]")));
        assert!(eval("$.friends[", &d).is_err());
    }
}
