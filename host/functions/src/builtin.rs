//! The adapter that turns a plain row-wise Rust function into a batch
//! [`FunctionFactory`], and the list of all built-ins.

use crate::FnResult;
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind, RowError,
    RowResult,
};
use tributary_core::{Error, Value};

/// A row-wise implementation.
pub type ExecFn = fn(&FnContext, &[Value]) -> FnResult;
/// An argument validator run when a rule is created.
pub type ValidateFn = fn(&[ArgInfo]) -> Result<(), String>;

/// A built-in scalar function: an arity, an optional validator and a row-wise body.
#[derive(Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub min_args: usize,
    /// `None` for variadic functions.
    pub max_args: Option<usize>,
    pub validate: Option<ValidateFn>,
    pub exec: ExecFn,
}

impl Builtin {
    pub const fn new(
        name: &'static str,
        min_args: usize,
        max_args: Option<usize>,
        exec: ExecFn,
    ) -> Self {
        Builtin {
            name,
            min_args,
            max_args,
            validate: None,
            exec,
        }
    }
    pub const fn with_validate(mut self, v: ValidateFn) -> Self {
        self.validate = Some(v);
        self
    }
}

impl FunctionFactory for Builtin {
    fn name(&self) -> &str {
        self.name
    }
    fn kind(&self) -> FunctionKind {
        FunctionKind::Scalar
    }
    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        let n = args.len();
        let ok = n >= self.min_args && self.max_args.is_none_or(|m| n <= m);
        if !ok {
            return Err(match self.max_args {
                Some(m) if m == self.min_args => format!("Expect {m} arguments but found {n}."),
                Some(m) => format!("Expect {} to {m} arguments but found {n}.", self.min_args),
                None => format!("Expect at least {} arguments but found {n}.", self.min_args),
            });
        }
        match self.validate {
            Some(v) => v(args),
            None => Ok(()),
        }
    }
    fn instantiate(&self, _site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        Ok(Box::new(BuiltinImpl {
            exec: self.exec,
            buf: Vec::new(),
        }))
    }
}

struct BuiltinImpl {
    exec: ExecFn,
    buf: Vec<Value>,
}

impl FunctionImpl for BuiltinImpl {
    fn exec_batch(&mut self, ctx: &FnContext, args: &[Column], n: usize, out: &mut Vec<RowResult>) {
        out.reserve(n);
        for i in 0..n {
            self.buf.clear();
            self.buf.extend(args.iter().map(|c| c.get(i).clone()));
            out.push((self.exec)(ctx, &self.buf).map_err(RowError::Failed));
        }
    }
}

/// Every built-in scalar function that is a plain row-wise body, family by family.
/// `rule_id`, which needs its call site, is registered beside these by
/// [`crate::Registry::with_builtins`].
pub fn all() -> Vec<Builtin> {
    [
        crate::math::builtins(),
        crate::string::builtins(),
        crate::conversion::builtins(),
        crate::hashing::builtins(),
        crate::json_path::builtins(),
        crate::array::builtins(),
        crate::object::builtins(),
        crate::datetime::builtins(),
        crate::other::builtins(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_lowercase() {
        let all = all();
        let mut seen = HashSet::new();
        for f in &all {
            assert!(seen.insert(f.name), "duplicate built-in {}", f.name);
            assert_eq!(f.name, f.name.to_ascii_lowercase());
        }
        assert!(all.len() > 130, "only {} built-ins", all.len());
    }

    #[test]
    fn arity_messages_match_ekuiper() {
        let upper = all()
            .into_iter()
            .find(|f| f.name == "upper")
            .expect("upper");
        assert_eq!(
            upper.validate(&[]),
            Err("Expect 1 arguments but found 0.".to_string())
        );
    }
}
