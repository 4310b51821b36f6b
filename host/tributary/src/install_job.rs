//! Following an install the server answered with a job (`202 Accepted`, see
//! `tributary_api::jobs`): the CLI asks for one (`Prefer: respond-async`) so a slow
//! install shows that it is still going instead of hanging silently, then prints
//! what the install answered, or fails with its error, as a synchronous one would.

use std::time::{Duration, Instant};
use tributary_core::Error;

/// How often the job is asked about.
const POLL: Duration = Duration::from_millis(250);
/// How often a running job is reported on stderr.
const REPORT: Duration = Duration::from_secs(2);

/// Polls the job at `url` until it ends; answers its message.
pub async fn follow(
    client: &reqwest::Client,
    url: reqwest::Url,
    token: Option<String>,
) -> Result<String, Error> {
    let started = Instant::now();
    let mut reported = Instant::now();
    loop {
        let mut q = client.get(url.clone());
        if let Some(t) = &token {
            q = q.bearer_auth(t);
        }
        let resp = q
            .send()
            .await
            .map_err(|e| Error::external(format!("cannot reach {url}: {e}")))?;
        let status = resp.status();
        let job: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| Error::external(format!("the job at {url} answered no JSON: {e}")))?;
        if !status.is_success() {
            let message = job["message"].as_str().unwrap_or("no message");
            return Err(Error::external(format!(
                "the install job at {url} is gone: {message} (HTTP {})",
                status.as_u16()
            )));
        }
        let message = job["message"].as_str().unwrap_or("").to_string();
        match job["status"].as_str() {
            Some("done") => return Ok(message),
            Some("failed") => {
                let code = job["httpStatus"].as_u64().unwrap_or(0);
                return Err(Error::user(format!("{message} (HTTP {code})")));
            }
            _ => {}
        }
        if reported.elapsed() >= REPORT {
            reported = Instant::now();
            eprintln!(
                "{} {} plugin {}: still working ({} s)",
                job["what"].as_str().unwrap_or("install"),
                job["kind"].as_str().unwrap_or(""),
                job["name"].as_str().unwrap_or(""),
                started.elapsed().as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
