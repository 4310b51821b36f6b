//! `tributary plugin call FILE FUNCTION [ARGS]…`: one call of a built function
//! plugin, offline, like `extism call`: the quickest way to see what a function
//! answers, or the error it fails with, before packing it.
//!
//! The call goes the way a rule's does: the arguments are checked by the plugin's
//! `validate` as literals at rule creation are, one instance is made as for one call
//! site (its state in a memory store that lives as long as the command), and the
//! call is a batch of one row (for an aggregate, one group). `--repeat N` makes N
//! calls on that instance, so a stateful function's state shows.

use crate::local_plugin::{self, LocalRequest};
use std::path::PathBuf;
use std::sync::Arc;
use tributary_core::clock::Clock;
use tributary_core::function::{ArgInfo, CallSite, Cancel, Column, FnContext, FunctionKind};
use tributary_core::state::MemoryStateStore;
use tributary_core::{Error, Value};
use tributary_plugin::{Artifact, InstanceInfo, PluginKind, PluginMetrics, PluginPaths};

/// One `plugin call`.
#[derive(Debug, Clone)]
pub struct CallRequest {
    pub file: PathBuf,
    pub function: String,
    /// Each a JSON value; for an aggregate, a JSON array (the group's values).
    pub args: Vec<String>,
    pub repeat: u32,
    pub name: Option<String>,
}

/// The answers, one JSON text per call.
pub fn call(req: &CallRequest) -> Result<Vec<String>, Error> {
    let what = "call";
    let plugin = local_plugin::load(
        what,
        &LocalRequest {
            file: req.file.clone(),
            kind: Some(PluginKind::Function),
            name: req.name.clone(),
            version: None,
        },
    )?;
    let Artifact::Function(artifact) = &plugin.artifact else {
        return Err(local_plugin::err(what, &req.file, "not a function plugin"));
    };
    let exported = artifact
        .functions()
        .iter()
        .find(|f| f.name == req.function)
        .or_else(|| {
            // SQL names functions case-insensitively, so a call does too.
            artifact
                .functions()
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(&req.function))
        })
        .ok_or_else(|| {
            let names: Vec<&str> = artifact
                .functions()
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            local_plugin::err(
                what,
                &req.file,
                format!(
                    "it exports no function {:?}; it exports: {}",
                    req.function,
                    names.join(", ")
                ),
            )
        })?;
    let function = exported.name.as_str();
    let aggregate = exported.kind == FunctionKind::Aggregate;
    let values = parse_args(&req.args, aggregate)?;
    let infos: Vec<ArgInfo> = if aggregate {
        vec![ArgInfo::Dynamic; values.len()]
    } else {
        values.iter().map(|v| ArgInfo::Literal(v.clone())).collect()
    };
    artifact.validate(function, &infos).map_err(Error::user)?;
    let root = plugin.scratch.path();
    let paths = PluginPaths {
        root: root.display().to_string(),
        plugin: root
            .join("etc")
            .join(PluginKind::Function.folder())
            .join(&plugin.name)
            .display()
            .to_string(),
    };
    let info = if artifact.singleton() {
        InstanceInfo::singleton(&plugin.name, function, &paths)
    } else {
        let site = CallSite {
            rule_id: "call".into(),
            site: 0,
        };
        InstanceInfo::call_site(&plugin.name, function, &site, 0, &paths)
    };
    let ctx = tributary_plugin::InstanceContext {
        info,
        state: Arc::new(MemoryStateStore::default()),
        metrics: Arc::new(PluginMetrics::default()),
        link: None,
    };
    let mut instance = artifact
        .instantiate(function, &ctx)
        .map_err(|e| Error::user(format!("{function}: cannot make an instance: {e}")))?;
    let mut answers = Vec::new();
    for _ in 0..req.repeat.max(1) {
        let fn_ctx = FnContext {
            now_ms: tributary_core::clock::SystemClock.now_ms(),
            cancel: Cancel::default(),
        };
        let mut out = Vec::with_capacity(1);
        let result = if aggregate {
            let group: Vec<Column> = values.iter().cloned().map(column_of).collect();
            instance.exec_groups(&fn_ctx, &[group], &mut out)
        } else {
            let cols: Vec<Column> = values.iter().cloned().map(Column::Scalar).collect();
            instance.exec(&fn_ctx, &cols, 1, &mut out)
        };
        result.map_err(|e| Error::user(format!("{function}: the call failed: {e}")))?;
        match out.pop() {
            Some(Ok(v)) => answers.push(tributary_core::json::to_json_string(&v)),
            Some(Err(e)) => return Err(Error::user(format!("{function}: {e}"))),
            None => {
                return Err(Error::user(format!(
                    "{function}: the plugin gave no result"
                )))
            }
        }
    }
    Ok(answers)
}

/// `plugin call` on the command line: one line per answer. The call runs on a
/// blocking thread, as a rule's calls do (a guest may block on its I/O).
pub async fn run(req: CallRequest) -> Result<(), Error> {
    let answers = tokio::task::spawn_blocking(move || call(&req))
        .await
        .map_err(|e| Error::internal(format!("call: the calling task failed: {e}")))??;
    for a in answers {
        crate::say!("{a}");
    }
    Ok(())
}

/// An aggregate's argument: the group's values, one per row.
fn column_of(v: Value) -> Column {
    match v {
        Value::Array(items) => Column::Values(items.to_vec()),
        other => Column::Values(vec![other]),
    }
}

/// The arguments as values; an aggregate's must be arrays of one length (its rows).
fn parse_args(args: &[String], aggregate: bool) -> Result<Vec<Value>, Error> {
    let mut values = Vec::with_capacity(args.len());
    let mut rows = None;
    for (i, text) in args.iter().enumerate() {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::user(format!(
                "argument {} {text:?} is not a JSON value ({e}); a string is written \
                 with its quotes: '\"text\"'",
                i + 1
            ))
        })?;
        if aggregate {
            let Some(items) = json.as_array() else {
                return Err(Error::user(format!(
                    "argument {} {text:?}: an aggregate's argument is a JSON array of the \
                     group's values, e.g. '[1, 2, 3]'",
                    i + 1
                )));
            };
            match rows {
                Some(n) if n != items.len() => {
                    return Err(Error::user(format!(
                        "argument {} holds {} where argument 1 holds {n}: every column \
                         of a group has one value per row",
                        i + 1,
                        items.len()
                    )))
                }
                _ => rows = Some(items.len()),
            }
        }
        values.push(tributary_core::json::from_json(json));
    }
    Ok(values)
}
