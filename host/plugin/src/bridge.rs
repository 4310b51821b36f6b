//! The one way a plugin call leaves the async world.
//!
//! Plugin calls are synchronous and may block: a wasm guest running to its CPU
//! deadline, WASI host functions that drive futures with `block_on` (which must not
//! run on a thread that is polling tasks), a native library doing I/O. Every call of
//! every tier goes through [`call`] (from synchronous code, such as an operator
//! evaluating a batch) or [`call_async`] (from a connector's async task):
//!
//! - on a multi-threaded runtime (the binary's) the worker hands its tasks over
//!   (`block_in_place`) and makes the call itself: no thread hop on the hot path;
//! - on a current-thread runtime (embedders, benches) the call goes to a pooled
//!   thread and the caller waits;
//! - outside any runtime the call is simply made.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `f`, a call that may block, from wherever the caller is.
pub fn call<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => match pool() {
            // A panic in `f` reaches the caller, as it would on this thread.
            Some(pool) => pool.install(f),
            None => std::thread::scope(|s| match s.spawn(f).join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            }),
        },
    }
}

/// [`call`] from async code: the task yields its worker while the call runs.
pub async fn call_async<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        // A current-thread runtime must keep running its other tasks meanwhile.
        Ok(_) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let run = move || {
                let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
            };
            match pool() {
                Some(pool) => pool.spawn(run),
                None => {
                    std::thread::spawn(run);
                }
            }
            match rx.await {
                Ok(Ok(r)) => r,
                Ok(Err(p)) => std::panic::resume_unwind(p),
                // The thread ended without an answer: only a panic does that.
                Err(_) => panic!("a plugin call thread ended without an answer"),
            }
        }
        Err(_) => f(),
    }
}

/// Threads outside any runtime, for the calls made from a single-threaded runtime.
/// They live as long as the process: handing a call over costs a wake-up, where a
/// thread per call (with the signal stack wasmtime sets up on each new thread) cost
/// about a tenth of a millisecond per batch, more than `x + 1` on 1,024 rows.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        // At least four, so that one guest running to its deadline does not hold up
        // every other caller on a small machine; idle threads only sleep.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .max(4);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tributary-plugin-call-{i}"))
            .build()
            .map_err(
                |e| tracing::warn!(error = %e, "no plugin call threads; a thread per call instead"),
            )
            .ok()
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_run_from_every_kind_of_caller() {
        assert_eq!(call(|| 1), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            assert_eq!(call(|| 2), 2);
            assert_eq!(call_async(|| 3).await, 3);
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .expect("runtime");
        rt.block_on(async {
            let t = tokio::spawn(async { (call(|| 4), call_async(|| 5).await) });
            assert_eq!(t.await.expect("task"), (4, 5));
        });
    }
}
