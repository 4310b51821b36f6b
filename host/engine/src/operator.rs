//! The operator contract: what every stage between a source and the sinks implements.
//!
//! An operator gets a [`Chunk`] (a batch of rows, plus the errors of rows that failed
//! upstream, at their positions) and pushes its output into a [`Collector`]. It has
//! one required method; timers and end-of-input have default no-op hooks, so a
//! stateless operator is a few lines.

use tributary_core::Row;

/// A batch of rows in flight, and the errors that took the place of some rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    pub rows: Vec<Row>,
    /// `(position, message)`: the error belongs before `rows[position]` in output order.
    /// Sorted by position.
    pub errors: Vec<(usize, String)>,
    /// Emit the rows as one emission (a window's result) rather than one per row.
    pub grouped: bool,
    /// `(window_start, window_end)` in epoch ms, for a window's chunk.
    pub window: Option<(i64, i64)>,
    /// The newest arrival time of the messages the chunk was decoded from: processing
    /// time moves on with it even when every message failed to decode.
    pub time: Option<i64>,
    /// The rule stream (FROM = 0, then JOIN order) the chunk was decoded from.
    pub stream: usize,
}

impl Chunk {
    pub fn from_rows(rows: Vec<Row>) -> Self {
        Chunk {
            rows,
            errors: Vec::new(),
            grouped: false,
            window: None,
            time: None,
            stream: 0,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.errors.is_empty()
    }
}

/// Builds an output chunk row by row while keeping errors in their place.
#[derive(Debug, Default)]
pub struct ChunkBuilder {
    chunk: Chunk,
}

impl ChunkBuilder {
    pub fn with_capacity(n: usize) -> Self {
        ChunkBuilder {
            chunk: Chunk {
                rows: Vec::with_capacity(n),
                errors: Vec::new(),
                grouped: false,
                window: None,
                time: None,
                stream: 0,
            },
        }
    }
    /// A builder whose chunk keeps `input`'s grouping and window (one emission per
    /// window goes on being one emission).
    pub fn like(input: &Chunk, n: usize) -> Self {
        let mut b = ChunkBuilder::with_capacity(n);
        b.chunk.grouped = input.grouped;
        b.chunk.window = input.window;
        b.chunk.stream = input.stream;
        b
    }
    pub fn set_time(&mut self, t: Option<i64>) {
        self.chunk.time = t;
    }
    pub fn set_stream(&mut self, s: usize) {
        self.chunk.stream = s;
    }
    pub fn row(&mut self, r: Row) {
        self.chunk.rows.push(r);
    }
    pub fn error(&mut self, msg: String) {
        let pos = self.chunk.rows.len();
        self.chunk.errors.push((pos, msg));
    }
    pub fn finish(self) -> Chunk {
        self.chunk
    }
}

/// Where an operator puts its output.
#[derive(Debug, Default)]
pub struct Collector {
    out: Vec<Chunk>,
}

impl Collector {
    pub fn new() -> Self {
        Collector::default()
    }
    pub fn collect(&mut self, c: Chunk) {
        if !c.is_empty() || c.grouped {
            self.out.push(c);
        }
    }
    pub fn drain(&mut self) -> std::vec::Drain<'_, Chunk> {
        self.out.drain(..)
    }
}

/// A stage of a rule.
pub trait Operator: Send {
    /// A short name for logs and `/topo`.
    fn name(&self) -> &str {
        "operator"
    }
    /// Processes one chunk.
    fn process(&mut self, input: Chunk, out: &mut Collector);
    /// Called when the rule's clock reaches `now_ms` at a timer the operator asked for.
    fn on_tick(&mut self, _now_ms: i64, _out: &mut Collector) {}
    /// The clock time (epoch ms) at which the operator wants [`Operator::on_tick`]
    /// called next, if any. Only wall-clock runs use it: in a trial, time moves with the
    /// tuples, and operators fire their due timers themselves before each tuple.
    fn next_timer(&self) -> Option<i64> {
        None
    }
    /// How many input rows the operator holds for later output (an open window, rows
    /// waiting for the watermark). A checkpoint is taken only when no operator holds
    /// any: the rows behind a checkpoint's offsets must all have been emitted.
    fn held_rows(&self) -> usize {
        0
    }
    /// Whether each input row becomes at most one output row or error, in its place
    /// (a filter, a projection without `unnest`): then a rule's rows add up, and the
    /// rows that vanish were filtered.
    fn per_row(&self) -> bool {
        false
    }
}

/// An element of a chunk in output order.
pub enum Item {
    /// A row and its index among the chunk's rows (the index of its evaluated values).
    Row(usize, Row),
    Error(String),
}

/// Walks a chunk's rows and errors in output order.
pub fn for_each_in_order(chunk: Chunk, mut f: impl FnMut(Item)) {
    let mut errors = chunk.errors.into_iter().peekable();
    for (i, row) in chunk.rows.into_iter().enumerate() {
        while let Some((_, e)) = errors.next_if(|(p, _)| *p <= i) {
            f(Item::Error(e));
        }
        f(Item::Row(i, row));
    }
    for (_, e) in errors {
        f(Item::Error(e));
    }
}

/// Runs `op.process`, turning a panic into an error emission for every row of the
/// chunk: a faulty function or operator costs that batch, never the rule or the host.
pub(crate) fn process_guarded(op: &mut dyn Operator, c: Chunk, col: &mut Collector) {
    let n = c.rows.len();
    let carried: Vec<String> = c.errors.iter().map(|(_, e)| e.clone()).collect();
    let name = op.name().to_string();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op.process(c, col)));
    if let Err(p) = r {
        let msg = panic_message(p.as_ref());
        tracing::error!(operator = %name, panic = %msg, rows = n, "operator panicked; its batch becomes errors");
        let mut b = ChunkBuilder::with_capacity(0);
        for e in carried {
            b.error(e);
        }
        for _ in 0..n {
            b.error(format!("internal error in {name}: {msg}"));
        }
        col.collect(b.finish());
    }
}

/// The text of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs `op.on_tick`, turning a panic into one error emission.
pub(crate) fn tick_guarded(op: &mut dyn Operator, now_ms: i64, col: &mut Collector) {
    let name = op.name().to_string();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op.on_tick(now_ms, col)));
    if let Err(p) = r {
        let msg = panic_message(p.as_ref());
        tracing::error!(operator = %name, panic = %msg, "operator panicked on a timer");
        let mut b = ChunkBuilder::with_capacity(0);
        b.error(format!("internal error in {name}: {msg}"));
        col.collect(b.finish());
    }
}
