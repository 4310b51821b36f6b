//! The `api` section of `<root>/etc/tributary.yaml`:
//!
//! ```yaml
//! api:
//!   token: "s3cret"              # a fixed token; without one, serve generates etc/api-token
//!   # auth: none                 # or no token at all (refused unless listening on loopback)
//!   openPaths: ["/ping", "/metrics", "/openapi.json"]   # reachable without the token (the default; a bare path is GET and HEAD)
//!   allowedHosts: ["edge-1.local:9081"]    # Host headers accepted besides the listen address
//!   cors:
//!     allowedOrigins: ["https://console.example"]   # off unless set
//!   maxBodyBytes: 1048576         # JSON bodies
//!   maxUploadBytes: 268435456     # plugin package uploads
//!   fileRoots: ["/srv/packages"]  # where file:// URLs may point (besides data/uploads and the temp dir)
//!   fetchHosts: ["repo.local"]    # the only hosts http(s):// URLs may name (default: any)
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use tributary_core::Error;

/// How requests are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Every request but the open paths needs `Authorization: Bearer <token>`.
    Token(String),
    /// No token: allowed only on a loopback listener (`auth: none`).
    None,
}

/// A path reachable without the token, for some methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPath {
    /// `None`: GET and HEAD (a bare path in the config).
    pub method: Option<String>,
    pub path: String,
}

impl OpenPath {
    fn parse(entry: &str) -> Result<OpenPath, String> {
        let entry = entry.trim();
        match entry.split_once(' ') {
            Some((m, p)) => {
                let method = m.trim().to_ascii_uppercase();
                if !matches!(
                    method.as_str(),
                    "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH"
                ) {
                    return Err(format!(
                        "openPaths entry {entry:?}: {m:?} is not an HTTP method"
                    ));
                }
                Ok(OpenPath {
                    method: Some(method),
                    path: p.trim().to_string(),
                })
            }
            None => Ok(OpenPath {
                method: None,
                path: entry.to_string(),
            }),
        }
        .and_then(|o| {
            if o.path.starts_with('/') {
                Ok(o)
            } else {
                Err(format!("openPaths entry {entry:?}: a path starts with /"))
            }
        })
    }

    /// Whether a request of `method` to `path` may go without the token.
    pub fn admits(&self, method: &str, path: &str) -> bool {
        self.path == path
            && match &self.method {
                Some(m) => m.eq_ignore_ascii_case(method),
                None => matches!(method, "GET" | "HEAD"),
            }
    }
}

/// The section as written, before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    token: Option<String>,
    auth: Option<String>,
    open_paths: Option<Vec<String>>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    cors: Option<RawCors>,
    max_body_bytes: Option<usize>,
    max_upload_bytes: Option<usize>,
    #[serde(default)]
    file_roots: Vec<PathBuf>,
    fetch_hosts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCors {
    #[serde(default)]
    allowed_origins: Vec<String>,
}

/// The API's settings, checked.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `None` until [`ApiConfig::resolve_token`] has run (or in embedders and tests
    /// that build the router directly: then no token is asked).
    pub auth: Option<Auth>,
    /// Whether the token came from the config file (`false`: generated or absent).
    pub token_configured: bool,
    pub open_paths: Vec<OpenPath>,
    /// `host[:port]` values accepted in the `Host` header besides the listen address.
    pub allowed_hosts: Vec<String>,
    /// Origins allowed to call the API from a browser (CORS); empty: none.
    pub cors_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    /// Folders `file://` URLs may point into.
    pub file_roots: Vec<PathBuf>,
    /// The hosts `http(s)://` URLs may name; `None`: any.
    pub fetch_hosts: Option<Vec<String>>,
}

/// 1 MiB: a rule, a DDL statement or a ruleset of a few thousand rules.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// 256 MiB: a Python component is ~20 MB; a package with its libraries more.
pub const DEFAULT_MAX_UPLOAD: usize = 256 << 20;

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            auth: None,
            token_configured: false,
            open_paths: default_open(),
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY,
            max_upload_bytes: DEFAULT_MAX_UPLOAD,
            file_roots: Vec::new(),
            fetch_hosts: None,
        }
    }
}

fn default_open() -> Vec<OpenPath> {
    ["/ping", "/metrics", "/openapi.json"]
        .iter()
        .map(|p| OpenPath {
            method: None,
            path: p.to_string(),
        })
        .collect()
}

/// The file a generated token is kept in.
pub fn token_file(root: &Path) -> PathBuf {
    root.join("etc").join("api-token")
}

impl ApiConfig {
    /// The `api` section of the root's config file; defaults when absent. The
    /// default `file://` folders are `<root>/data/uploads` and the system temp dir.
    pub fn load(root: &Path) -> Result<ApiConfig, Error> {
        let path = root.join("etc").join("tributary.yaml");
        let bad = |e: String| Error::user(format!("{}: api: {e}", path.display()));
        let raw = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let doc: serde_yaml::Value = serde_yaml::from_str(&text)
                    .map_err(|e| Error::user(format!("{}: {e}", path.display())))?;
                match doc.get("api") {
                    None => RawConfig::default(),
                    Some(v) => serde_yaml::from_value(v.clone()).map_err(|e| bad(e.to_string()))?,
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => RawConfig::default(),
            Err(e) => return Err(Error::user(format!("{}: {e}", path.display()))),
        };
        let auth = match (raw.token, raw.auth.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "give either token or auth: none, not both".to_string(),
                ))
            }
            (Some(t), None) if t.trim().is_empty() => {
                return Err(bad(
                    "token is empty; set one, remove it (a token is then generated) or write auth: none"
                        .to_string(),
                ))
            }
            (Some(t), None) => Some(Auth::Token(t.trim().to_string())),
            (None, Some(a)) if a.eq_ignore_ascii_case("none") => Some(Auth::None),
            (None, Some(a)) if a.eq_ignore_ascii_case("token") => None,
            (None, Some(a)) => {
                return Err(bad(format!(
                    "auth must be token or none, got {a:?}"
                )))
            }
            (None, None) => None,
        };
        let open_paths = match raw.open_paths {
            None => default_open(),
            Some(list) => list
                .iter()
                .map(|e| OpenPath::parse(e))
                .collect::<Result<_, _>>()
                .map_err(bad)?,
        };
        let limit = |v: Option<usize>, default: usize, key: &str| match v {
            None => Ok(default),
            Some(0) => Err(bad(format!("{key} must be more than 0"))),
            Some(n) => Ok(n),
        };
        let mut file_roots = vec![root.join("data").join("uploads"), std::env::temp_dir()];
        file_roots.extend(raw.file_roots.into_iter().map(|p| {
            if p.is_relative() {
                root.join(p)
            } else {
                p
            }
        }));
        Ok(ApiConfig {
            token_configured: matches!(auth, Some(Auth::Token(_))),
            auth,
            open_paths,
            allowed_hosts: raw
                .allowed_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            cors_origins: raw
                .cors
                .map(|c| {
                    c.allowed_origins
                        .iter()
                        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
            max_body_bytes: limit(raw.max_body_bytes, DEFAULT_MAX_BODY, "maxBodyBytes")?,
            max_upload_bytes: limit(raw.max_upload_bytes, DEFAULT_MAX_UPLOAD, "maxUploadBytes")?,
            file_roots,
            fetch_hosts: raw
                .fetch_hosts
                .map(|h| h.iter().map(|x| x.trim().to_ascii_lowercase()).collect()),
        })
    }

    /// Settles how requests are authenticated on a server listening on `listen`:
    /// a configured token is used as is; `auth: none` is refused unless `listen` is
    /// a loopback address; otherwise the token of `<root>/etc/api-token` is used,
    /// generated on first start. Returns the token file when one is in use.
    pub fn resolve_token(
        &mut self,
        root: &Path,
        listen: std::net::SocketAddr,
    ) -> Result<Option<PathBuf>, Error> {
        match &self.auth {
            Some(Auth::Token(_)) => Ok(None),
            Some(Auth::None) if listen.ip().is_loopback() => Ok(None),
            Some(Auth::None) => Err(Error::user(format!(
                "api: auth: none is only allowed on a loopback address; {listen} is not one (set api.token)"
            ))),
            None => {
                let file = token_file(root);
                let token = read_or_create_token(&file)?;
                self.auth = Some(Auth::Token(token));
                Ok(Some(file))
            }
        }
    }

    /// The token, when one is asked.
    pub fn token(&self) -> Option<&str> {
        match &self.auth {
            Some(Auth::Token(t)) => Some(t),
            _ => None,
        }
    }
}

/// The token kept in `file`, or a new random one written there (readable by the
/// owner only).
fn read_or_create_token(file: &Path) -> Result<String, Error> {
    match std::fs::read_to_string(file) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::user(format!("{}: {e}", file.display()))),
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no randomness for the API token: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::user(format!("cannot create {}: {e}", dir.display())))?;
    }
    let tmp = file.with_extension("tmp");
    write_private(&tmp, token.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| Error::user(format!("cannot write {}: {e}", file.display())))?;
    Ok(token)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<ApiConfig, Error> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("etc")).expect("etc");
        std::fs::write(dir.path().join("etc/tributary.yaml"), yaml).expect("write");
        ApiConfig::load(dir.path())
    }

    #[test]
    fn empty_tokens_and_unknown_auth_are_refused() {
        let e = load("api:\n  token: \"\"\n").expect_err("empty");
        assert!(e.to_string().contains("token is empty"), "{e}");
        let e = load("api:\n  auth: basic\n").expect_err("auth");
        assert!(e.to_string().contains("token or none"), "{e}");
        let e = load("api:\n  token: x\n  auth: none\n").expect_err("both");
        assert!(e.to_string().contains("not both"), "{e}");
        let e = load("api:\n  openPaths: [\"FETCH /x\"]\n").expect_err("method");
        assert!(e.to_string().contains("not an HTTP method"), "{e}");
    }

    #[test]
    fn open_paths_are_per_method() {
        let c = load("api:\n  openPaths: [\"/ping\", \"POST /rules\"]\n").expect("load");
        let open = |m: &str, p: &str| c.open_paths.iter().any(|o| o.admits(m, p));
        assert!(open("GET", "/ping") && open("HEAD", "/ping"));
        assert!(!open("POST", "/ping") && !open("DELETE", "/ping"));
        assert!(open("POST", "/rules") && !open("GET", "/rules"));
    }

    #[test]
    fn a_token_is_generated_once_and_auth_none_needs_loopback() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = ApiConfig::load(dir.path()).expect("load");
        let addr: std::net::SocketAddr = "127.0.0.1:9081".parse().expect("addr");
        let file = c.resolve_token(dir.path(), addr).expect("token");
        let first = c.token().expect("a token").to_string();
        assert_eq!(file, Some(token_file(dir.path())));
        assert_eq!(first.len(), 48);
        let mut again = ApiConfig::load(dir.path()).expect("load");
        again.resolve_token(dir.path(), addr).expect("token");
        assert_eq!(again.token(), Some(first.as_str()), "kept across starts");

        let mut none = ApiConfig {
            auth: Some(Auth::None),
            ..ApiConfig::default()
        };
        assert!(none.resolve_token(dir.path(), addr).is_ok());
        let wide: std::net::SocketAddr = "0.0.0.0:9081".parse().expect("addr");
        let e = none
            .resolve_token(dir.path(), wide)
            .expect_err("not loopback");
        assert!(e.to_string().contains("loopback"), "{e}");
    }
}
