//! Other functions (`other_functions.md`) that need no rule state: `isnull`,
//! `coalesce`, `newuuid`, `tstamp`, and `rule_id`, which needs only its call site.
//!
//! The rest of that page (`meta`, `mqtt`, `event_time`, `window_start`/`window_end`,
//! `last_hit_*`, `rule_start`) reads the row's metadata, the window or per-rule state,
//! which only the engine has; see `docs/sql-functions.md`.

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use std::sync::Arc;
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, RowResult,
};
use tributary_core::{Error, Value};

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("isnull", 1, Some(1), |_, a| {
            Ok(Value::Bool(arg(a, 0).is_null()))
        })
        .with_validate(v_one_arg),
        Builtin::new("coalesce", 0, None, coalesce).with_validate(|args| {
            if args.is_empty() {
                return Err("The arguments should be at least one.".to_string());
            }
            Ok(())
        }),
        Builtin::new("newuuid", 0, Some(0), newuuid).with_validate(v_no_arg),
        // Without a window every tuple is an emission of its own: it is row 1. In a
        // window the engine numbers the emitted rows itself.
        Builtin::new("row_number", 0, Some(0), |_, _| Ok(Value::Int(1))).with_validate(v_no_arg),
        // Epoch milliseconds of the engine's clock, which trials can mock.
        Builtin::new("tstamp", 0, Some(0), |ctx, _| Ok(Value::Int(ctx.now_ms)))
            .with_validate(v_no_arg),
    ]
}

/// Functions that need to know where they are called from, so they cannot be plain
/// [`Builtin`]s (whose bodies are stateless `fn` pointers).
pub fn site_functions() -> Vec<Arc<dyn FunctionFactory>> {
    vec![
        Arc::new(RuleId),
        Arc::new(crate::hits::LastHit { count: true }),
        Arc::new(crate::hits::LastHit { count: false }),
    ]
}

fn coalesce(_: &FnContext, a: &[Value]) -> FnResult {
    Ok(a.iter().find(|v| !v.is_null()).cloned().unwrap_or_default())
}

/// A random (version 4) UUID in its canonical text form. eKuiper uses a time-based
/// version 1 UUID; both are unique strings of the same shape, and a random one needs no
/// clock and no MAC address.
fn newuuid(_: &FnContext, _: &[Value]) -> FnResult {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&next_u64().to_be_bytes());
    b[8..].copy_from_slice(&next_u64().to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(Value::from(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )))
}

/// `rule_id()`: the id of the rule the call belongs to, taken from its call site.
struct RuleId;

impl FunctionFactory for RuleId {
    fn name(&self) -> &str {
        "rule_id"
    }
    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        v_no_arg(args)
    }
    fn instantiate(&self, site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        Ok(Box::new(RuleIdImpl(Value::str(&site.rule_id))))
    }
}

struct RuleIdImpl(Value);

impl FunctionImpl for RuleIdImpl {
    fn exec_batch(&mut self, _: &FnContext, _: &[Column], n: usize, out: &mut Vec<RowResult>) {
        out.extend(std::iter::repeat_n(Ok(self.0.clone()), n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn isnull_and_coalesce() {
        assert_eq!(call("isnull", &[Value::Null]), Ok(Value::Bool(true)));
        assert_eq!(call("isnull", &[Value::Int(0)]), Ok(Value::Bool(false)));
        assert_eq!(
            call("coalesce", &[Value::Null, Value::Int(2), Value::Int(3)]),
            Ok(Value::Int(2))
        );
        assert_eq!(
            call("coalesce", &[Value::Null, Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(
            check("coalesce", &[]),
            Err("The arguments should be at least one.".to_string())
        );
        assert_eq!(
            check("isnull", &[]),
            Err("Expect 1 arguments but found 0.".to_string())
        );
    }

    #[test]
    fn newuuid_is_a_v4_uuid() {
        let Ok(Value::String(a)) = call("newuuid", &[]) else {
            panic!("uuid")
        };
        let Ok(Value::String(b)) = call("newuuid", &[]) else {
            panic!("uuid")
        };
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_eq!(
            check("newuuid", &[ArgInfo::Dynamic]),
            Err("Expect 0 arguments but found 1.".to_string())
        );
    }

    #[test]
    fn tstamp_reads_the_engine_clock() {
        assert_eq!(call("tstamp", &[]), Ok(Value::Int(NOW_MS)));
        assert!(check("tstamp", &[ArgInfo::Dynamic]).is_err());
    }

    #[test]
    fn rule_id_comes_from_the_call_site() {
        let f = RuleId;
        assert!(f.validate(&[]).is_ok());
        assert_eq!(
            f.validate(&[ArgInfo::Dynamic]),
            Err("Expect 0 arguments but found 1.".to_string())
        );
        let site = CallSite {
            rule_id: "rule1".to_string(),
            site: 0,
        };
        let mut inst = f.instantiate(&site).expect("instantiate");
        let mut out = Vec::new();
        inst.exec_batch(&FnContext::default(), &[], 2, &mut out);
        assert_eq!(out, vec![Ok(Value::str("rule1")), Ok(Value::str("rule1"))]);
    }
}
