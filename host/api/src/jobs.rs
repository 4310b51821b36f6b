//! Installs that answer at once: a plugin install or update sent with
//! `Prefer: respond-async` (RFC 7240) is answered `202 Accepted` with a job, and runs
//! on; `GET /plugins/jobs/{id}` says how it is going, then how it ended, with the
//! answer (or the error) the synchronous request would have given.
//!
//! Without the header an install answers when it is done, as eKuiper's does, so the
//! scripts written for eKuiper keep working; the CLI asks for a job and shows the
//! progress of a slow install (a Python or JavaScript component compiles for seconds).

use axum::http::{HeaderMap, StatusCode};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Finished jobs kept for their clients to read; the oldest go first.
const KEPT: usize = 256;

/// Whether a request asks to be answered before its work is done.
pub fn wants_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
}

struct Job {
    what: String,
    kind: String,
    name: String,
    started: Instant,
    /// When it ended, its HTTP status and answer.
    ended: Option<(Instant, StatusCode, String)>,
}

/// The jobs of a server.
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Job>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Job>> {
        // Entries are inserted and updated whole: a poisoned map is still sound.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A running job: `what` (`install`, `update`) of plugin `name` of `kind`.
    pub fn start(&self, what: &str, kind: &str, name: &str) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut jobs = self.lock();
        while jobs.len() >= KEPT {
            let Some(oldest) = jobs
                .iter()
                .find(|(_, j)| j.ended.is_some())
                .map(|(id, _)| *id)
            else {
                break;
            };
            jobs.remove(&oldest);
        }
        jobs.insert(
            id,
            Job {
                what: what.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
                started: Instant::now(),
                ended: None,
            },
        );
        id
    }

    /// Records how job `id` ended: the status and text its request would have had.
    pub fn finish(&self, id: u64, status: StatusCode, message: String) {
        if let Some(job) = self.lock().get_mut(&id) {
            job.ended = Some((Instant::now(), status, message));
        }
    }

    /// Job `id` as the API shows it.
    pub fn get(&self, id: u64) -> Option<serde_json::Value> {
        let jobs = self.lock();
        let job = jobs.get(&id)?;
        let elapsed = |until: Instant| until.duration_since(job.started).as_millis() as u64;
        let mut v = serde_json::json!({
            "id": id,
            "what": job.what,
            "kind": job.kind,
            "name": job.name,
        });
        match &job.ended {
            None => {
                v["status"] = "running".into();
                v["elapsedMs"] = elapsed(Instant::now()).into();
            }
            Some((at, code, message)) => {
                v["status"] = if code.is_success() { "done" } else { "failed" }.into();
                v["elapsedMs"] = elapsed(*at).into();
                v["httpStatus"] = code.as_u16().into();
                v["message"] = message.clone().into();
            }
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_runs_then_ends_with_its_answer() {
        let jobs = Jobs::default();
        let id = jobs.start("install", "functions", "echo");
        assert_eq!(jobs.get(id).expect("job")["status"], "running");
        jobs.finish(
            id,
            StatusCode::CREATED,
            "functions plugin echo is created".into(),
        );
        let j = jobs.get(id).expect("job");
        assert_eq!(j["status"], "done");
        assert_eq!(j["httpStatus"], 201);
        let bad = jobs.start("update", "sinks", "x");
        jobs.finish(bad, StatusCode::BAD_REQUEST, "no".into());
        assert_eq!(jobs.get(bad).expect("job")["status"], "failed");
        assert!(jobs.get(999).is_none());
    }

    #[test]
    fn old_finished_jobs_make_room() {
        let jobs = Jobs::default();
        let first = jobs.start("install", "functions", "a");
        jobs.finish(first, StatusCode::OK, String::new());
        for _ in 0..KEPT {
            jobs.start("install", "functions", "b");
        }
        assert!(jobs.get(first).is_none());
        assert_eq!(jobs.lock().len(), KEPT);
    }

    #[test]
    fn prefer_respond_async_is_read_among_other_preferences() {
        let mut h = HeaderMap::new();
        assert!(!wants_async(&h));
        h.insert("prefer", "wait=10, Respond-Async".parse().expect("header"));
        assert!(wants_async(&h));
    }
}
