//! Fetching what a request names by URL: plugin and service packages, import files.
//!
//! A URL comes from whoever can call the API, so a fetch is bounded every way: a
//! `file://` path must be a regular file inside one of `api.fileRoots` (by default
//! `<root>/data/uploads` and the temp dir), so `/etc/shadow`, `/dev/zero` and FIFOs are
//! out of reach; a download goes only to `api.fetchHosts` when that is set, and has a
//! timeout; both stop reading at the size limit instead of reading first and checking
//! after. The read runs off the async workers.

use crate::config::ApiConfig;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tributary_core::Error;

/// How long a download may take, connection to last byte.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// The bytes at `url` (`file://`, `http://` or `https://`), at most `limit` of them.
pub async fn fetch(config: &ApiConfig, url: &str, limit: usize) -> Result<Vec<u8>, Error> {
    if let Some(path) = url.strip_prefix("file://") {
        let path = allowed_file(&config.file_roots, Path::new(path))?;
        return tokio::task::spawn_blocking(move || read_file(&path, limit))
            .await
            .map_err(|e| Error::internal(format!("file read task: {e}")))?;
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::user(format!(
            "\"file\" must be a file://, http:// or https:// URL, got {:?}",
            tributary_core::names::shown(url)
        )));
    }
    if let Some(hosts) = &config.fetch_hosts {
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        if !hosts.contains(&host) {
            return Err(Error::user(format!(
                "{:?} names the host {:?}, which api.fetchHosts does not list",
                tributary_core::names::shown(url),
                tributary_core::names::shown(&host)
            )));
        }
    }
    download(url, limit).await
}

/// `path`, resolved, if it is a regular file inside one of `roots`.
fn allowed_file(roots: &[PathBuf], path: &Path) -> Result<PathBuf, Error> {
    let shown = path.display();
    let real = std::fs::canonicalize(path)
        .map_err(|e| Error::user(format!("cannot read {shown}: {e}")))?;
    let inside = roots.iter().any(|r| {
        std::fs::canonicalize(r)
            .map(|r| real.starts_with(r))
            .unwrap_or(false)
    });
    if !inside {
        return Err(Error::user(format!(
            "{shown} is outside the folders file:// URLs may name ({}); add its folder to api.fileRoots",
            roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let meta =
        std::fs::metadata(&real).map_err(|e| Error::user(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Error::user(format!("{shown} is not a regular file")));
    }
    Ok(real)
}

fn too_large(what: &str, limit: usize) -> Error {
    Error::user(format!(
        "{what} is larger than {limit} bytes, the most this route takes"
    ))
}

fn read_file(path: &Path, limit: usize) -> Result<Vec<u8>, Error> {
    let shown = path.display();
    let f =
        std::fs::File::open(path).map_err(|e| Error::user(format!("cannot read {shown}: {e}")))?;
    let mut out = Vec::new();
    // One byte past the limit tells "exactly the limit" from "more".
    f.take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::user(format!("cannot read {shown}: {e}")))?;
    if out.len() > limit {
        return Err(too_large(&shown.to_string(), limit));
    }
    Ok(out)
}

async fn download(url: &str, limit: usize) -> Result<Vec<u8>, Error> {
    let failed =
        |e: &dyn std::fmt::Display| Error::external(format!("fail to download {url}: {e}"));
    let client = reqwest::Client::builder()
        .timeout(DOWNLOAD_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| failed(&e))?;
    let mut resp = client.get(url).send().await.map_err(|e| failed(&e))?;
    if !resp.status().is_success() {
        return Err(failed(&resp.status()));
    }
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large(&format!("the file at {url}"), limit));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| failed(&e))? {
        if out.len() + chunk.len() > limit {
            return Err(too_large(&format!("the file at {url}"), limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_urls_stay_inside_their_folders_and_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inside = dir.path().join("ok");
        std::fs::create_dir_all(&inside).expect("dir");
        std::fs::write(inside.join("p.zip"), b"12345").expect("write");
        std::fs::write(dir.path().join("secret"), b"x").expect("write");
        let config = ApiConfig {
            file_roots: vec![inside.clone()],
            ..ApiConfig::default()
        };
        let url = |p: &Path| format!("file://{}", p.display());
        let got = fetch(&config, &url(&inside.join("p.zip")), 5)
            .await
            .expect("inside");
        assert_eq!(got, b"12345");
        let e = fetch(&config, &url(&inside.join("p.zip")), 4)
            .await
            .expect_err("limit");
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");
        let e = fetch(&config, &url(&inside.join("../secret")), 5)
            .await
            .expect_err("outside");
        assert!(e.to_string().contains("api.fileRoots"), "{e}");
        let e = fetch(&config, &url(&inside), 5)
            .await
            .expect_err("a folder");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = fetch(&config, "ftp://x", 5).await.expect_err("scheme");
        assert!(e.to_string().contains("file://"), "{e}");
    }
}
