//! Turns a rule definition into a runnable [`Pipeline`]: parse, plan, bind functions,
//! create the source and the sinks. Everything that can be wrong with a rule is found
//! here, before it runs.

use crate::checkpoint::CheckpointPlan;
use crate::decode::Decoder;
use crate::eval::Evaluator;
use crate::metrics::RuleMetrics;
use crate::operator::Operator;
use crate::ops::window::{EventTime, WindowOp};
use crate::ops::{FilterOp, ProjectOp};
use crate::plan::{plan, RulePlan};
use crate::rule::{RuleDef, RuleOptions};
use crate::runtime::{JoinedInput, Pipeline, SinkRunner};
use crate::sink_props::{CommonProps, COMMON_KEYS};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tributary_connectors::MemoryHub;
use tributary_core::connection::ConnectionStatus;
use tributary_core::connector::{ConnectorContext, Sink, Source, Start};
use tributary_core::function::FunctionFactory;
use tributary_core::registry::{ConnectorRegistry, Registrar};
use tributary_core::{Clock, Context, Error};
use tributary_functions::Registry;
use tributary_sql::{parse_select, StreamDef, StreamKind};

/// What every rule of one engine shares.
#[derive(Clone)]
pub struct EngineContext {
    pub root: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub hub: MemoryHub,
    pub registry: Arc<RwLock<Registry>>,
    /// The state store plugins of every tier use.
    pub state: Arc<dyn tributary_core::state::StateStore>,
    /// Every source and sink type, built-in and plugin.
    pub connectors: Arc<ConnectorRegistry>,
    /// The same store as `state`, when it is durable: rules with `qos` ≥ 1 checkpoint
    /// into it. `None` (memory, trials): rules run without checkpoints.
    pub checkpoints: Option<Arc<tributary_state::CheckpointStore>>,
    /// Whether windows whose aggregates fold a value at a time aggregate
    /// incrementally (`ops::incremental`; on by default). A test turns it off to
    /// check that both paths emit the same.
    pub incremental: bool,
    /// Where a test wants the process to die (imports).
    pub failpoint: tributary_core::failpoint::Failpoint,
}

impl std::fmt::Debug for EngineContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineContext")
            .field("root", &self.root)
            .finish()
    }
}

impl EngineContext {
    pub fn new(root: PathBuf, clock: Arc<dyn Clock>) -> Self {
        let hub = MemoryHub::default();
        EngineContext {
            root,
            clock,
            connectors: Arc::new(tributary_connectors::with_builtins(&hub)),
            hub,
            registry: Arc::new(RwLock::new(Registry::with_builtins())),
            state: Arc::new(tributary_core::state::MemoryStateStore::default()),
            checkpoints: None,
            incremental: true,
            failpoint: Default::default(),
        }
    }

    /// Keeps plugin state in a durable `store`, through which rules also checkpoint.
    /// Call it before loading plugins: they keep the store they are given.
    pub fn use_durable_store(&mut self, store: Arc<dyn tributary_core::state::StateStore>) {
        let c = Arc::new(tributary_state::CheckpointStore::new(store));
        self.state = c.clone();
        self.checkpoints = Some(c);
    }

    pub(crate) fn connector_ctx(&self, rule_id: &str) -> ConnectorContext {
        ConnectorContext {
            rule_id: rule_id.to_string(),
            root: self.root.clone(),
            clock: self.clock.clone(),
            connection: Default::default(),
        }
    }
}

/// Plugin hosts add their functions and connector types through the context.
impl Registrar for EngineContext {
    fn add_function(&self, f: Arc<dyn FunctionFactory>) -> Result<(), Error> {
        self.registry
            .write()
            .map_err(|_| Error::internal("function registry lock poisoned"))?
            .register(f)
    }

    fn remove_function(&self, name: &str) {
        if let Ok(mut r) = self.registry.write() {
            r.remove(name);
        }
    }

    fn connectors(&self) -> &ConnectorRegistry {
        &self.connectors
    }
}

/// Parses and plans the rule's SQL against the known streams.
pub fn plan_rule(rule: &RuleDef, streams: &BTreeMap<String, StreamDef>) -> Result<RulePlan, Error> {
    let stmt = parse_select(&rule.sql)
        .map_err(|e| Error::user(format!("rule {}: invalid SQL: {e}", rule.id)))?;
    let find = |name: &str| {
        streams
            .get(name)
            .or_else(|| {
                streams
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .ok_or_else(|| Error::user(format!("rule {}: stream {name} not found", rule.id)))
    };
    let stream = find(&stmt.from.name)?;
    if stream.kind == StreamKind::Table {
        return Err(Error::user(format!(
            "rule {}: {} is a table; a table can only be read through a JOIN with a stream",
            rule.id, stream.name
        )));
    }
    let joined = stmt
        .joins
        .iter()
        .map(|j| find(&j.source.name).cloned())
        .collect::<Result<Vec<_>, _>>()?;
    let what = || format!("rule {}", rule.id);
    let mut p = plan(&rule.id, &stmt, stream).with_context(what)?;
    crate::join_plan::plan_joins(&mut p, &stmt, joined).with_context(what)?;
    Ok(p)
}

/// The connection status of each of a rule's connectors, by eKuiper node name.
pub type Connections = Vec<(String, Arc<ConnectionStatus>)>;

/// The operators of a plan, with their functions bound.
pub fn build_operators(
    p: &RulePlan,
    ctx: &EngineContext,
    options: &RuleOptions,
) -> Result<Vec<Box<dyn Operator>>, Error> {
    build_operators_into(p, ctx, options, &mut Vec::new())
}

/// [`build_operators`], adding the connections of the lookup sources it opens.
fn build_operators_into(
    p: &RulePlan,
    ctx: &EngineContext,
    options: &RuleOptions,
    connections: &mut Connections,
) -> Result<Vec<Box<dyn Operator>>, Error> {
    let registry = ctx
        .registry
        .read()
        .map_err(|_| Error::internal("function registry lock poisoned"))?;
    let mut ops: Vec<Box<dyn Operator>> = Vec::new();
    let prefix = |e: Error| e.context(format!("rule {}", p.rule_id));
    // Analytic functions run first, on every tuple (before windows, joins and WHERE).
    let (rewritten, analytic) =
        crate::analytic_build::extract_analytic(p, &registry).map_err(prefix)?;
    let p = &rewritten;
    if let Some(a) = analytic {
        ops.push(Box::new(a));
    }
    let windowed = p.group.as_ref().is_some_and(|g| g.window.is_some());
    let joined = !p.joins.is_empty();
    // With a window or a JOIN, WHERE runs in the window or join stage.
    if let Some(c) = p.condition.as_ref().filter(|_| !windowed && !joined) {
        let ev = Evaluator::bind([c], &registry, &p.rule_id, &p.cancel).map_err(prefix)?;
        ops.push(Box::new(FilterOp::new(c.clone(), ev)));
    }
    if let Some(g) = p.group.as_ref().filter(|g| g.window.is_some()) {
        let incremental = if ctx.incremental {
            let et = event_time_of(p, options).map_err(prefix)?;
            crate::group_build::incremental_op(p, g, &registry, options, et, ctx.clock.now_ms())
                .map_err(prefix)?
        } else {
            None
        };
        if let Some(op) = incremental {
            ops.push(Box::new(op));
            return Ok(ops);
        }
        if let Some(w) = &g.window {
            ops.push(Box::new(
                window_op(p, w, ctx, &registry, options).map_err(prefix)?,
            ));
        }
    }
    if joined {
        let op = crate::join_build::join_op(p, ctx, &registry, connections).map_err(prefix)?;
        ops.push(Box::new(op));
    }
    let Some(group) = &p.group else {
        ops.push(Box::new(project_op(
            p,
            p.fields.clone(),
            &registry,
            options,
        )?));
        return Ok(ops);
    };
    ops.push(Box::new(
        crate::group_build::group_op(p, group, &registry, options).map_err(prefix)?,
    ));
    Ok(ops)
}

/// How the rule reads event time, if it uses it: every stream's `TIMESTAMP` field.
fn event_time_of(p: &RulePlan, options: &RuleOptions) -> Result<Option<EventTime>, Error> {
    if !options.is_event_time {
        return Ok(None);
    }
    let streams = std::iter::once(&p.stream).chain(p.joins.iter().map(|j| &j.stream));
    let mut fields = Vec::new();
    let mut formats = Vec::new();
    for s in streams {
        formats.push(s.options.timestamp_format.clone());
        let field = match (&s.options.timestamp, s.kind) {
            (Some(f), _) => f.clone(),
            (None, tributary_sql::StreamKind::Table) => String::new(),
            (None, _) => {
                return Err(Error::user(format!(
                    "isEventTime needs a TIMESTAMP field in the definition of stream {}",
                    s.name
                )))
            }
        };
        // The schema's own key, so that row lookups compare pointers.
        let key = s
            .schema
            .as_ref()
            .and_then(|sc| sc.key(&field))
            .cloned()
            .unwrap_or_else(|| std::sync::Arc::from(field.as_str()));
        fields.push(key);
    }
    Ok(Some(EventTime {
        fields,
        formats,
        late_tolerance_ms: options.late_tolerance_ms,
    }))
}

/// How a table of a join keeps its rows (`KIND`, `RETAIN_SIZE`, `KEY`).
pub(crate) fn table_mode(t: &StreamDef) -> crate::ops::table::TableMode {
    use crate::ops::table::TableMode;
    match t.options.kind.as_deref() {
        Some(k) if k.eq_ignore_ascii_case("lookup") => TableMode::Lookup {
            key: t.options.key.as_ref().map(|k| {
                t.schema
                    .as_ref()
                    .and_then(|s| s.key(k))
                    .cloned()
                    .unwrap_or_else(|| std::sync::Arc::from(k.as_str()))
            }),
        },
        _ => TableMode::Scan {
            retain: t.options.retain_size,
        },
    }
}

/// The window stage of a plan with a window.
fn window_op(
    p: &RulePlan,
    w: &tributary_sql::Window,
    ctx: &EngineContext,
    registry: &Registry,
    options: &RuleOptions,
) -> Result<WindowOp, Error> {
    // With JOINs, WHERE may read several streams: it runs after the join.
    let condition = if p.joins.is_empty() {
        p.condition.clone()
    } else {
        None
    };
    let mut exprs: Vec<&tributary_sql::Expr> = condition.iter().collect();
    exprs.extend(w.filter.iter());
    exprs.extend(w.trigger.iter());
    if let tributary_sql::WindowKind::State { begin, emit } = &w.kind {
        exprs.push(begin);
        exprs.push(emit);
    }
    let ev = Evaluator::bind(exprs, registry, &p.rule_id, &p.cancel)?;
    let streams = || std::iter::once(&p.stream).chain(p.joins.iter().map(|j| &j.stream));
    let event_time = event_time_of(p, options)?;
    let tables = streams()
        .map(|s| s.kind == tributary_sql::StreamKind::Table)
        .collect();
    Ok(WindowOp::new(
        w.clone(),
        condition,
        event_time,
        tables,
        ctx.clock.now_ms(),
        ev,
    ))
}

/// The projection of a plan whose fields are `fields`.
pub(crate) fn project_op(
    p: &RulePlan,
    fields: Vec<crate::plan::PlannedField>,
    registry: &Registry,
    options: &RuleOptions,
) -> Result<ProjectOp, Error> {
    let field_exprs = fields.iter().filter_map(|f| match f {
        crate::plan::PlannedField::Expr { expr, .. } => Some(expr),
        crate::plan::PlannedField::Wildcard => None,
    });
    let ev = Evaluator::bind(field_exprs, registry, &p.rule_id, &p.cancel)
        .with_context(|| format!("rule {}", p.rule_id))?;
    Ok(ProjectOp::new(
        fields,
        p.eval_order.clone(),
        p.referenced_aliases.clone(),
        p.unnest,
        &p.stream.name,
        options.send_nil_field,
        ev,
    ))
}

/// Creates the source a stream definition names.
pub fn build_source(
    stream: &StreamDef,
    rule_id: &str,
    ctx: &EngineContext,
    start: &Start,
    connection: &Arc<ConnectionStatus>,
) -> Result<Box<dyn Source>, Error> {
    let mut cctx = ctx.connector_ctx(rule_id);
    cctx.connection = connection.clone();
    let props = source_props(stream, ctx)?;
    let datasource = stream.options.datasource.as_deref().unwrap_or("");
    ctx.connectors
        .source(source_type(stream))
        .and_then(|f| f.create(datasource, &props, &cctx, start))
        .with_context(|| format!("stream {}", stream.name))
}

/// A stream's source `TYPE` (eKuiper's default: mqtt).
pub(crate) fn source_type(stream: &StreamDef) -> &str {
    stream.options.source_type.as_deref().unwrap_or("mqtt")
}

/// A stream's source props: its `CONF_KEY`'s conf, with the stream's own options.
pub(crate) fn source_props(
    stream: &StreamDef,
    ctx: &EngineContext,
) -> Result<tributary_core::connector::Props, Error> {
    let conf_key = stream.options.conf_key.as_deref().unwrap_or("default");
    let mut props =
        tributary_connectors::registry::load_source_conf(&ctx.root, source_type(stream), conf_key)?;
    // The stream's DELIMITER also configures sources that split text themselves (a CSV
    // file), unless their conf says otherwise.
    if let Some(d) = &stream.options.delimiter {
        props
            .entry("delimiter".to_string())
            .or_insert_with(|| tributary_core::Value::str(d));
    }
    Ok(props)
}

/// Creates the rule's sinks from its actions.
pub fn build_sinks(rule: &RuleDef, ctx: &EngineContext) -> Result<Vec<SinkRunner>, Error> {
    let mut sinks = Vec::with_capacity(rule.actions.len());
    for (i, a) in rule.actions.iter().enumerate() {
        let name = format!("{}_{i}", a.kind);
        let common = CommonProps::parse(&a.kind, &a.props)
            .map_err(|e| Error::user(format!("rule {}: actions[{i}]: {e}", rule.id)))?;
        // `format` and `fields` are also the file sink's business (CSV header order,
        // line format); the other common keys are consumed here.
        let own: BTreeMap<_, _> = a
            .props
            .iter()
            .filter(|(k, _)| {
                !COMMON_KEYS.contains(&k.as_str()) || matches!(k.as_str(), "format" | "fields")
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let cctx = ctx.connector_ctx(&rule.id);
        let sink: Box<dyn Sink> = ctx
            .connectors
            .sink(&a.kind)
            .and_then(|f| f.create(&own, &cctx))
            .map_err(|e| Error::user(format!("rule {}: actions[{i}]: {e}", rule.id)))?;
        sinks.push(SinkRunner {
            name,
            sink,
            props: common,
            connection: cctx.connection,
            delivery: Arc::default(),
        });
    }
    Ok(sinks)
}

/// The decoder of the rule's FROM stream.
pub fn main_decoder(p: &RulePlan) -> Decoder {
    let d = Decoder::new(&p.stream, p.used_columns.as_deref());
    if p.joins.is_empty() {
        d
    } else {
        d.for_join(0, &p.stream.name)
    }
}

/// The decoders of every stream of a rule with JOINs (FROM first).
pub fn join_decoders(p: &RulePlan) -> Vec<Decoder> {
    let mut v = vec![main_decoder(p)];
    for (i, j) in p.joins.iter().enumerate() {
        v.push(Decoder::new(&j.stream, None).for_join(i + 1, &j.stream.name));
    }
    v
}

/// Builds the whole pipeline of a rule.
pub fn build_pipeline(
    rule: &RuleDef,
    streams: &BTreeMap<String, StreamDef>,
    ctx: &EngineContext,
    metrics: Arc<RuleMetrics>,
) -> Result<Pipeline, Error> {
    let p = plan_rule(rule, streams)?;
    let mut connections: Connections =
        vec![(format!("source_{}_0", p.stream.name), Arc::default())];
    let operators = build_operators_into(&p, ctx, &rule.options, &mut connections)?;
    let checkpoint = match &ctx.checkpoints {
        Some(store) if rule.options.qos >= 1 => {
            // Streams resume at their offsets; a table is read whole again.
            let rewind: Vec<bool> = std::iter::once(true)
                .chain(p.joins.iter().map(|j| j.stream.kind != StreamKind::Table))
                .collect();
            Some(CheckpointPlan::resume(
                store.clone(),
                &rule.id,
                rule.options.checkpoint_interval_ms,
                &rewind,
                rule.actions.len(),
            )?)
        }
        _ => None,
    };
    let start = |i: usize| {
        checkpoint
            .as_ref()
            .and_then(|c| c.starts.get(i).cloned())
            .unwrap_or_default()
    };
    // Each connector reports its connection under its eKuiper node name.
    let source = build_source(&p.stream, &rule.id, ctx, &start(0), &connections[0].1)?;
    if checkpoint.is_some() && !source.rewindable() {
        tracing::warn!(rule = %rule.id, stream = %p.stream.name, "the source cannot rewind: after a crash, rows between the last checkpoint and the crash are not read again");
    }
    let sinks = build_sinks(rule, ctx)?;
    let mut joined = Vec::with_capacity(p.joins.len());
    for (i, (j, decoder)) in p
        .joins
        .iter()
        .zip(join_decoders(&p).into_iter().skip(1))
        .enumerate()
    {
        // A table answered by lookups is never read as a stream.
        if crate::join_build::looked_up(&j.stream, ctx) {
            joined.push(JoinedInput {
                source: None,
                decoder,
            });
            continue;
        }
        let connection = Arc::default();
        joined.push(JoinedInput {
            source: Some(build_source(
                &j.stream,
                &rule.id,
                ctx,
                &start(i + 1),
                &connection,
            )?),
            decoder,
        });
        connections.push((format!("source_{}_0", j.stream.name), connection));
    }
    connections.extend(
        sinks
            .iter()
            .map(|s| (format!("sink_{}_0", s.name), s.connection.clone())),
    );
    metrics.set_connections(connections);
    metrics.set_sinks(
        sinks
            .iter()
            .map(|s| (format!("sink_{}_0", s.name), s.delivery.clone()))
            .collect(),
    );
    Ok(Pipeline {
        rule_id: rule.id.clone(),
        source,
        decoder: main_decoder(&p),
        joined,
        operators,
        sinks,
        options: rule.options.clone(),
        metrics,
        clock: ctx.clock.clone(),
        coalesce_limit: crate::runtime::COALESCE_LIMIT,
        wall_timers: true,
        checkpoint,
        cancel: p.cancel.clone(),
    })
}
