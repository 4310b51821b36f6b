//! External functions behind the engine's function traits.
//!
//! A batch of rows becomes concurrent requests — at most `concurrency` in flight per
//! function, whichever rules call it — over the interface's kept-alive connections
//! (HTTP/2 for gRPC), with the results put back in row order. Each request has its own
//! timeout and retries with a doubling back-off; what a row that still fails becomes is
//! the function's failure policy (an error, null, or no row at all).

use crate::invoke::{CallError, Invoker, StateHeaders};
use crate::service::{OnError, Policy};
use crate::state_endpoint::StateEndpoint;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, RowError, RowResult,
};
use tributary_core::{Error, Value};

/// Counters of one function, shared by all its call sites: the plugin tiers' own
/// (a call is a batch, `restarts` counts the requests retried).
pub use tributary_plugin::PluginMetrics as FunctionMetrics;

/// One SQL function bound to a service.
#[derive(Debug)]
pub struct ServiceFunction {
    /// The SQL name.
    pub name: String,
    /// The service (file name) and interface it comes from.
    pub service: String,
    pub interface: String,
    /// The rpc it calls (the interface name for a schemaless function).
    pub method: String,
    /// Named by the file (`functions`, or a schemaless interface), rather than an rpc
    /// exported under its own name.
    pub explicit: bool,
    pub invoker: Invoker,
    pub policy: Policy,
    /// Fields of the request message (`None`: schemaless).
    pub input_fields: Option<usize>,
    pub permits: Arc<tokio::sync::Semaphore>,
    pub metrics: FunctionMetrics,
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl ServiceFunction {
    /// One row's call with its retries; `state` tells the service where and how to
    /// reach its instance's state.
    async fn call(
        self: Arc<Self>,
        args: Vec<Value>,
        state: Option<Arc<StateHeaders>>,
    ) -> Result<Value, String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "the function is shutting down".to_string())?;
        let mut wait = self.policy.retry_interval;
        let mut attempt = 1;
        loop {
            match self
                .invoker
                .call(args.clone(), self.policy.timeout, state.as_deref())
                .await
            {
                Ok(v) => return Ok(v),
                Err(CallError { message, retry }) => {
                    if !retry || attempt >= self.policy.attempts {
                        return Err(format!("{}: {message}", self.name));
                    }
                    self.metrics.restarted();
                    tracing::debug!(function = %self.name, attempt, error = %message, "retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
            }
        }
    }
}

pub struct ExternalFunctionFactory {
    def: Arc<ServiceFunction>,
    state: Option<Arc<StateEndpoint>>,
}

impl ExternalFunctionFactory {
    pub fn new(def: Arc<ServiceFunction>) -> Self {
        ExternalFunctionFactory { def, state: None }
    }

    /// Gives every instance a token of `endpoint`, so its service can keep state.
    pub fn with_state(mut self, endpoint: Arc<StateEndpoint>) -> Self {
        self.state = Some(endpoint);
        self
    }

    pub fn definition(&self) -> &Arc<ServiceFunction> {
        &self.def
    }
}

impl FunctionFactory for ExternalFunctionFactory {
    fn name(&self) -> &str {
        &self.def.name
    }

    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        match self.def.input_fields {
            None => {
                if args.len() < 2 {
                    return Err(format!(
                        "{} expects the HTTP method, the path and an optional payload, but found {} arguments",
                        self.def.name,
                        args.len()
                    ));
                }
                for (i, what) in [(0, "the HTTP method"), (1, "the path")] {
                    if let ArgInfo::Literal(v) = &args[i] {
                        if !matches!(v, Value::String(_)) {
                            return Err(format!("parameter {} ({what}) must be a string", i + 1));
                        }
                    }
                }
                Ok(())
            }
            Some(n) => {
                let m = args.len();
                if m == n || (m == 1 && n > 0) {
                    Ok(())
                } else {
                    Err(format!("require {n} parameters but got {m}"))
                }
            }
        }
    }

    fn instantiate(&self, site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        // The same scope as a wasm or native function at this call site.
        let state = match &self.state {
            None => None,
            Some(endpoint) => {
                let scope =
                    tributary_core::scope::function(&site.rule_id, site.site, &self.def.name);
                Some(Arc::new(StateHeaders::new(endpoint.issue(&scope)?)?))
            }
        };
        Ok(Box::new(ExternalFunctionImpl {
            def: self.def.clone(),
            state,
        }))
    }
}

pub struct ExternalFunctionImpl {
    def: Arc<ServiceFunction>,
    /// The instance's state token (revoked with the instance).
    state: Option<Arc<StateHeaders>>,
}

impl FunctionImpl for ExternalFunctionImpl {
    fn exec_batch(
        &mut self,
        _ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) {
        let rows: Vec<Vec<Value>> = (0..n)
            .map(|i| args.iter().map(|c| c.get(i).clone()).collect())
            .collect();
        let def = self.def.clone();
        let state = self.state.clone();
        let concurrency = def.policy.concurrency;
        let began = std::time::Instant::now();
        let results = crate::runtime::run(async move {
            futures::stream::iter(rows)
                .map(|a| def.clone().call(a, state.clone()))
                .buffered(concurrency)
                .collect::<Vec<_>>()
                .await
        });
        self.def.metrics.call(n, began);
        let results = match results {
            Ok(r) => r,
            Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
        };
        for r in results {
            out.push(match r {
                Ok(v) => Ok(v),
                Err(e) => {
                    self.def.metrics.add_errors(1);
                    match self.def.policy.on_error {
                        OnError::Error => Err(RowError::Failed(e)),
                        OnError::Null => {
                            tracing::warn!(function = %self.def.name, error = %e, "call failed; null returned");
                            Ok(Value::Null)
                        }
                        OnError::Skip => {
                            tracing::warn!(function = %self.def.name, error = %e, "call failed; row skipped");
                            Err(RowError::Skip)
                        }
                    }
                }
            });
        }
    }
}
