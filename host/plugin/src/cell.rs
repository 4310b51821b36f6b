//! The current version of a plugin. An update swaps what the cell holds; factories
//! read it for every new instance, and running instances compare their version with
//! it at each batch and switch at that boundary, so a batch runs wholly on one
//! version.

use std::sync::{Arc, RwLock};

/// A shared, swappable `Arc<T>`.
pub struct VersionCell<T: ?Sized> {
    inner: Arc<RwLock<Arc<T>>>,
}

impl<T: ?Sized> Clone for VersionCell<T> {
    fn clone(&self) -> Self {
        VersionCell {
            inner: self.inner.clone(),
        }
    }
}

impl<T: ?Sized> VersionCell<T> {
    pub fn new(value: Arc<T>) -> Self {
        VersionCell {
            inner: Arc::new(RwLock::new(value)),
        }
    }

    /// The current version. A poisoned lock still holds a whole value (a swap is
    /// one assignment), so it is read anyway.
    pub fn current(&self) -> Arc<T> {
        match self.inner.read() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Makes `value` the current version; returns the one it replaced.
    pub fn swap(&self, value: Arc<T>) -> Arc<T> {
        match self.inner.write() {
            Ok(mut g) => std::mem::replace(&mut *g, value),
            Err(p) => std::mem::replace(&mut *p.into_inner(), value),
        }
    }

    /// Whether `held` is still the current version.
    pub fn is_current(&self, held: &Arc<T>) -> bool {
        Arc::ptr_eq(&self.current(), held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_is_seen_by_every_clone() {
        let a = VersionCell::new(Arc::new(1));
        let b = a.clone();
        let first = a.current();
        assert!(b.is_current(&first));
        assert_eq!(*a.swap(Arc::new(2)), 1);
        assert_eq!(*b.current(), 2);
        assert!(!b.is_current(&first));
    }
}
