//! Probes of the sandbox, for the capability tests: what a plugin can reach is what
//! its manifest asked for and the operator granted, nothing more.
//!
//! - `readFile(path)`: the file's text, or the I/O error as the row's error;
//! - `writeFile(path, text)`: writes the file, returns the byte count;
//! - `listDir(path)`: the sorted entry names, comma-separated;
//! - `envVar(name)`: the variable's value, or null when the plugin cannot see it;
//! - `allocMiB(n)`: allocates and touches n MiB, returns n (traps past the memory cap);
//! - `spinMs(n)`: busy-waits n ms of wall-clock time, returns n (past the deadline,
//!   the call is interrupted).

use std::hint::black_box;
use std::time::{Duration, Instant};
use tributary_guest::*;

struct Probe;

const NAMES: [&str; 6] = [
    "readFile",
    "writeFile",
    "listDir",
    "envVar",
    "allocMiB",
    "spinMs",
];

impl FunctionPlugin for Probe {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        scalars(&NAMES)
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        let n = if name == "writeFile" { 2 } else { 1 };
        expect_args(&name, &args, n, n)
    }
}

struct Inst {
    name: String,
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!("expected an integer, got {other:?}")),
    }
}

impl Inst {
    fn one(&self, args: &[Value]) -> Result<Value, String> {
        match self.name.as_str() {
            "readFile" => std::fs::read_to_string(text(&args[0])?)
                .map(Value::Str)
                .map_err(|e| e.to_string()),
            "writeFile" => {
                let body = text(&args[1])?;
                std::fs::write(text(&args[0])?, &body)
                    .map(|()| Value::Int(body.len() as i64))
                    .map_err(|e| e.to_string())
            }
            "listDir" => {
                let mut names = std::fs::read_dir(text(&args[0])?)
                    .map_err(|e| e.to_string())?
                    .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                names.sort();
                Ok(Value::Str(names.join(",")))
            }
            "envVar" => Ok(std::env::var(text(&args[0])?).map_or(Value::Null, Value::Str)),
            "allocMiB" => {
                let n = int(&args[0])?;
                let block = vec![1u8; (n.max(0) as usize) << 20];
                black_box(&block);
                Ok(Value::Int(n))
            }
            "spinMs" => {
                let n = int(&args[0])?;
                let start = Instant::now();
                while start.elapsed() < Duration::from_millis(n.max(0) as u64) {
                    black_box(0);
                }
                Ok(Value::Int(n))
            }
            other => Err(format!("no function {other}")),
        }
    }
}

impl FunctionInstance for Inst {
    fn new(name: String) -> Self {
        Inst { name }
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        row_by_row(&args, rows, |row| self.one(row))
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate(&self.name, groups.len())
    }
}

tributary_guest::export_function_plugin!(Probe);
