//! The host's imports, `state` and `context`, defined once for every contract version.
//!
//! Each version's interfaces get their own names in the linker
//! (`tributary:plugin/state@0.1.0`, `…@0.2.0`), all backed by the same functions over
//! the instance's [`tributary_plugin::InstanceHost`]. Where versions differ it is
//! said here: 0.1's `root-path` is the plugin's own folder (what it always returned),
//! 0.2's is the engine root (eKuiper's `GetRootPath`), with `plugin-path` and
//! `set-connection` added.

use crate::bindings::{context_api, state_api, types_api};
use crate::contract::Contract;
use crate::convert::{from_wit, to_wit};
use crate::host::HostState;
use tributary_core::state::StateError;
use tributary_plugin::{Connection, Level};
use wasmtime::component::{Linker, WasmStr};
use wasmtime::StoreContextMut;

type Cx<'a> = StoreContextMut<'a, HostState>;
type StateResult<T> = wasmtime::Result<(Result<T, state_api::StateError>,)>;

fn state_err(e: StateError) -> state_api::StateError {
    match e {
        StateError::NotAnInteger => state_api::StateError::NotAnInteger,
        StateError::Store(s) => state_api::StateError::Store(s),
    }
}

/// Defines the imports of every contract version in `linker`.
pub fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    for c in Contract::ALL {
        link_state(linker, c)?;
        link_context(linker, c)?;
        // `types` holds only types: an instance with no functions.
        linker.instance(&c.interface("types"))?;
    }
    Ok(())
}

/// Keys are read in place from guest memory ([`WasmStr`]), not copied into a
/// `String`: a counter bump allocates nothing on the host.
fn link_state(linker: &mut Linker<HostState>, c: Contract) -> wasmtime::Result<()> {
    let mut i = linker.instance(&c.interface("state"))?;
    i.func_wrap(
        "put-state",
        |cx: Cx<'_>, (key, value): (WasmStr, types_api::Value)| -> StateResult<()> {
            let key = key.to_str(&cx)?;
            let r = match from_wit(value) {
                Ok(v) => cx.data().host.put(&key, v).map_err(state_err),
                Err(e) => Err(state_api::StateError::Store(e)),
            };
            Ok((r,))
        },
    )?;
    i.func_wrap(
        "get-state",
        |cx: Cx<'_>, (key,): (WasmStr,)| -> StateResult<Option<types_api::Value>> {
            let key = key.to_str(&cx)?;
            let r = cx.data().host.get(&key).map_err(state_err);
            Ok((r.map(|v| v.map(|v| to_wit(&v))),))
        },
    )?;
    i.func_wrap(
        "delete-state",
        |cx: Cx<'_>, (key,): (WasmStr,)| -> StateResult<()> {
            let key = key.to_str(&cx)?;
            Ok((cx.data().host.delete(&key).map_err(state_err),))
        },
    )?;
    i.func_wrap(
        "incr-counter",
        |cx: Cx<'_>, (key, amount): (WasmStr, i64)| -> StateResult<i64> {
            let key = key.to_str(&cx)?;
            Ok((cx.data().host.incr(&key, amount).map_err(state_err),))
        },
    )?;
    i.func_wrap(
        "get-counter",
        |cx: Cx<'_>, (key,): (WasmStr,)| -> StateResult<i64> {
            let key = key.to_str(&cx)?;
            Ok((cx.data().host.counter(&key).map_err(state_err),))
        },
    )?;
    Ok(())
}

type Text = wasmtime::Result<(String,)>;

fn link_context(linker: &mut Linker<HostState>, c: Contract) -> wasmtime::Result<()> {
    let mut i = linker.instance(&c.interface("context"))?;
    i.func_wrap("rule-id", |cx: Cx<'_>, (): ()| -> Text {
        Ok((cx.data().host.info.rule_id.clone(),))
    })?;
    i.func_wrap("operator-id", |cx: Cx<'_>, (): ()| -> Text {
        Ok((cx.data().host.info.operator_id.clone(),))
    })?;
    i.func_wrap("instance-id", |cx: Cx<'_>, (): ()| -> Text {
        Ok((cx.data().host.info.instance_id.clone(),))
    })?;
    i.func_wrap(
        "log",
        |cx: Cx<'_>, (level, message): (context_api::Level, String)| -> wasmtime::Result<()> {
            let level = match level {
                context_api::Level::Trace => Level::Trace,
                context_api::Level::Debug => Level::Debug,
                context_api::Level::Info => Level::Info,
                context_api::Level::Warn => Level::Warn,
                context_api::Level::Error => Level::Error,
            };
            cx.data().host.log(level, &message);
            Ok(())
        },
    )?;
    match c {
        Contract::V0_1 => {
            i.func_wrap("root-path", |cx: Cx<'_>, (): ()| -> Text {
                Ok((cx.data().host.info.plugin_path.clone(),))
            })?;
        }
        Contract::V0_2 => {
            i.func_wrap("root-path", |cx: Cx<'_>, (): ()| -> Text {
                Ok((cx.data().host.info.root_path.clone(),))
            })?;
            i.func_wrap("plugin-path", |cx: Cx<'_>, (): ()| -> Text {
                Ok((cx.data().host.info.plugin_path.clone(),))
            })?;
            i.func_wrap(
                "set-connection",
                |cx: Cx<'_>,
                 (state, message): (context_api::Connection, String)|
                 -> wasmtime::Result<()> {
                    let state = match state {
                        context_api::Connection::Connected => Connection::Connected,
                        context_api::Connection::Connecting => Connection::Connecting,
                        context_api::Connection::Disconnected => Connection::Disconnected,
                    };
                    cx.data().host.set_connection(state, &message);
                    Ok(())
                },
            )?;
        }
    }
    Ok(())
}
