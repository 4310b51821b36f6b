//! The function contract every tier implements: built-ins, native `.so` plugins, wasm
//! components and external services all plug into one registry through these traits.
//!
//! Calls are **batch-first**: [`FunctionImpl::exec_batch`] gets whole argument columns
//! and fills one result per row, so a plugin boundary is crossed once per batch, not
//! once per row. A per-row failure is a value in the result list, never a panic or an
//! abort of the batch.

use crate::value::Value;

/// What a function is, as far as the planner is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// One value per row.
    Scalar,
    /// One value per group of rows (needs GROUP BY or a window).
    Aggregate,
}

/// What the planner knows about an argument when a rule is created: literals are known
/// by value, so `round(x, "a")` is rejected before any row flows.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgInfo {
    Literal(Value),
    /// A column, wildcard or computed expression whose value is known only at run time.
    Dynamic,
}

impl ArgInfo {
    pub fn literal(&self) -> Option<&Value> {
        match self {
            ArgInfo::Literal(v) => Some(v),
            ArgInfo::Dynamic => None,
        }
    }
}

/// One argument column of a batch call. Constants are not broadcast: a literal
/// argument arrives once as [`Column::Scalar`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Scalar(Value),
    Values(Vec<Value>),
}

impl Column {
    /// The value of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &Value {
        match self {
            Column::Scalar(v) => v,
            Column::Values(vs) => vs.get(i).unwrap_or(&Value::Null),
        }
    }
}

/// Where a function is called from; given to factories so that stateful plugins can
/// scope their state to one rule and call site.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallSite {
    pub rule_id: String,
    /// Index of the call within the rule's SQL, in parse order.
    pub site: usize,
}

/// Per-call context: the engine's notion of "now" (the mock clock in trials), and
/// whether the rule the call works for is stopping.
#[derive(Debug, Clone, Default)]
pub struct FnContext {
    pub now_ms: i64,
    pub cancel: Cancel,
}

/// Set once the rule a call works for is stopping. A tier that can interrupt a call
/// in flight (wasm, at its next epoch tick) does, so a stop never waits out a
/// plugin's whole deadline.
#[derive(Debug, Clone, Default)]
pub struct Cancel(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// The flag itself, for a tier that polls it from its own thread.
    pub fn flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.0.clone()
    }
}

/// Why a row has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// The row failed: an error emission in its place (under `sendError`).
    #[error("{0}")]
    Failed(String),
    /// Drop the row without an error emission (an external function whose failure
    /// policy is `skip`).
    #[error("the row is skipped")]
    Skip,
}

impl From<String> for RowError {
    fn from(s: String) -> Self {
        RowError::Failed(s)
    }
}

impl From<&str> for RowError {
    fn from(s: &str) -> Self {
        RowError::Failed(s.to_string())
    }
}

/// The result of one row.
pub type RowResult = Result<Value, RowError>;

/// A function as registered: validated at rule creation, instantiated per call site.
pub trait FunctionFactory: Send + Sync {
    fn name(&self) -> &str;
    fn kind(&self) -> FunctionKind {
        FunctionKind::Scalar
    }
    /// Checks the argument count and the kinds of literal arguments. The error text is
    /// shown to the user as is, so it names the parameter (`parameter 1`).
    fn validate(&self, args: &[ArgInfo]) -> Result<(), String>;
    /// Creates the instance used by one call site of one rule. Stateless functions
    /// return a shared instance.
    fn instantiate(&self, site: &CallSite) -> Result<Box<dyn FunctionImpl>, crate::Error>;
}

/// An instantiated function.
pub trait FunctionImpl: Send {
    /// Evaluates `n` rows. `args[i]` is the column of argument `i`. Pushes exactly `n`
    /// results onto `out`, in row order.
    fn exec_batch(&mut self, ctx: &FnContext, args: &[Column], n: usize, out: &mut Vec<RowResult>);

    /// Aggregates: one result per group, `groups[g]` holding group `g`'s argument
    /// columns. Pushes exactly `groups.len()` results. Scalar functions keep the
    /// default, which answers an error per group.
    fn exec_groups(&mut self, _ctx: &FnContext, groups: &[Vec<Column>], out: &mut Vec<RowResult>) {
        out.extend(
            groups
                .iter()
                .map(|_| Err(RowError::from("not an aggregate function"))),
        );
    }
}
