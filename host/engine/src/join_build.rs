//! Building a rule's JOIN stage: its steps, the tables it holds, and the lookup
//! sources it asks (tables whose source answers lookups, see [`crate::ops::lookup`]).

use crate::builder::{source_props, source_type, table_mode, Connections, EngineContext};
use crate::decode::Decoder;
use crate::eval::Evaluator;
use crate::ops::join::{JoinOp, JoinStep};
use crate::ops::lookup::{cache_conf, keys_of, Lookup};
use crate::plan::RulePlan;
use std::sync::Arc;
use tributary_core::{Context, Error};
use tributary_functions::Registry;
use tributary_sql::{StreamDef, StreamKind};

/// Whether table `t` is answered by lookups through its source (`KIND="lookup"` over
/// a source type that can) instead of read whole and held.
pub(crate) fn looked_up(t: &StreamDef, ctx: &EngineContext) -> bool {
    t.kind == StreamKind::Table
        && t.options
            .kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("lookup"))
        && ctx
            .connectors
            .source(source_type(t))
            .is_ok_and(|f| f.can_lookup())
}

/// The JOIN operator of a plan with JOINs; the lookup sources it opens report their
/// connections into `connections`.
pub(crate) fn join_op(
    p: &RulePlan,
    ctx: &EngineContext,
    registry: &Registry,
    connections: &mut Connections,
) -> Result<JoinOp, Error> {
    let mut steps = Vec::with_capacity(p.joins.len());
    let mut lookups = Vec::with_capacity(p.joins.len());
    for (i, j) in p.joins.iter().enumerate() {
        let stream = i + 1;
        steps.push(JoinStep {
            stream,
            kind: j.kind,
            on: j.on.clone(),
            table: j.is_table().then(|| table_mode(&j.stream)),
        });
        if !looked_up(&j.stream, ctx) {
            continue;
        }
        let t = &j.stream;
        let what = || format!("lookup table {}", t.name);
        let keys = keys_of(j.on.as_ref(), &t.name)?;
        let mut props = source_props(t, ctx).with_context(what)?;
        let cache = cache_conf(&props).with_context(what)?;
        // The cache is the engine's business: the source never sees its options.
        props.remove("lookup");
        let mut cctx = ctx.connector_ctx(&p.rule_id);
        let connection = Arc::default();
        cctx.connection = Arc::clone(&connection);
        let datasource = t.options.datasource.as_deref().unwrap_or("");
        let source = ctx
            .connectors
            .source(source_type(t))
            .and_then(|f| f.lookup(datasource, &props, &cctx))
            .with_context(what)?;
        connections.push((format!("source_{}_0", t.name), connection));
        let decoder = Decoder::new(t, None).for_join(stream, &t.name);
        lookups.push((
            stream,
            Lookup::new(source, keys, decoder, cache, ctx.clock.clone()),
        ));
    }
    let exprs: Vec<&tributary_sql::Expr> = steps
        .iter()
        .filter_map(|s| s.on.as_ref())
        .chain(p.condition.iter())
        .chain(lookups.iter().flat_map(|(_, l)| l.probes()))
        .collect();
    let ev = Evaluator::bind(exprs, registry, &p.rule_id, &p.cancel)?;
    Ok(JoinOp::new(steps, p.condition.clone(), ev).with_lookups(lookups))
}
