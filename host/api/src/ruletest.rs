//! `/ruletest`: a trial over the API. The body is a trial spec (`docs/trial.md`);
//! the answer is a stream of server-sent events, one `data:` event per emission as
//! `tributary trial` prints it, then `event: end` (or `event: error` with the reason).

use crate::error::{ApiError, ApiResult};
use crate::ApiState;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use futures::Stream;
use std::convert::Infallible;
use tributary_engine::{run_trial, TrialSpec};

pub async fn ruletest(
    State(s): State<ApiState>,
    body: String,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let spec = TrialSpec::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Unbounded: the trial's emit callback runs inside the trial's async code, where
    // a blocking send is not allowed; a trial's output is bounded by its mock data.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let root = s.root.clone();
    let setup = s.trial_setup.clone();
    let handle = tokio::runtime::Handle::current();
    // A trial runs on its own (mock) clock and may hold the thread: off the API's.
    tokio::task::spawn_blocking(move || {
        let lines = tx.clone();
        let result = handle.block_on(run_trial(
            &spec,
            Some(root),
            move |ctx| setup(ctx),
            move |line| {
                let _ = lines.send(Event::default().data(line));
            },
        ));
        let last = match result {
            Ok(()) => Event::default().event("end").data(""),
            Err(e) => Event::default().event("error").data(e.to_string()),
        };
        let _ = tx.send(last);
    });
    let stream =
        futures::StreamExt::map(tokio_stream::wrappers::UnboundedReceiverStream::new(rx), Ok);
    Ok(Sse::new(stream))
}
