//! The I/O runtime of external calls: a small tokio runtime of its own, so that a
//! batch's requests run concurrently whatever runtime (or none) the calling rule runs
//! on, and a rule waits for them without starving its own runtime.

use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime, started on first use.
pub fn io_runtime() -> Result<&'static Runtime, String> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("tributary-external")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the external-call runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs `fut` on the I/O runtime and waits for it, through the plugin host's bridge
/// (the one way any plugin call waits from an operator): the work runs on the I/O
/// runtime's own threads, so waiting cannot deadlock.
pub fn run<F>(fut: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = io_runtime()?;
    let handle = rt.spawn(fut);
    tributary_plugin::bridge::call(|| {
        futures::executor::block_on(handle).map_err(|e| format!("external call task: {e}"))
    })
}
