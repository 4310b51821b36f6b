//! A running `tributary serve` and a blocking HTTP client for its REST API, for the
//! end-to-end tests of the API.

use reqwest::blocking::{Client, Response};
use reqwest::Method;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `serve` with its REST API on a free loopback port.
pub struct Server {
    child: Child,
    log: std::path::PathBuf,
    pub base: String,
    token: Option<String>,
    client: Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Serves `root`; requests carry `token`, or without one the token the server
    /// generated into `<root>/etc/api-token` on its first start.
    pub fn start(root: &Path, token: Option<&str>) -> Server {
        Server::start_with(root, token, &[])
    }

    /// [`Server::start`] with more environment variables (a failpoint).
    pub fn start_with(root: &Path, token: Option<&str>, env: &[(&str, &str)]) -> Server {
        let log = root.join(format!("serve-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let mut cmd = crate::serve_command(root);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("serve");
        let start = Instant::now();
        let base = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(i) = text.find("REST API on ") {
                let rest = &text[i + "REST API on ".len()..];
                break rest.split_whitespace().next().expect("address").to_string();
            }
            assert!(
                start.elapsed() < crate::FIRST_OUTPUT,
                "serve did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let token = token.map(str::to_string).or_else(|| {
            std::fs::read_to_string(root.join("etc/api-token"))
                .ok()
                .map(|t| t.trim().to_string())
        });
        Server {
            child,
            log,
            base,
            token,
            client: Client::builder()
                .timeout(Duration::from_secs(180))
                .build()
                .expect("client"),
        }
    }

    /// A request with the token; returns (status, body).
    pub fn call(&self, method: Method, path: &str, body: Option<&str>) -> (u16, String) {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        self.call_with(method, path, body, auth.as_deref())
    }

    /// A request with a body of `content_type`.
    pub fn send_bytes(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        // A server that died mid-request (a failpoint) answers status 0.
        match req.header("content-type", content_type).body(body).send() {
            Ok(resp) => (resp.status().as_u16(), resp.text().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    }

    pub fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        auth: Option<&str>,
    ) -> (u16, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp: Response = req.send().expect("request");
        (resp.status().as_u16(), resp.text().unwrap_or_default())
    }

    /// A request with exactly the headers given (no token unless among them).
    pub fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> (u16, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        match req.send() {
            Ok(resp) => (resp.status().as_u16(), resp.text().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    }

    /// The token requests carry.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether the server process has exited; waits up to `within` for it.
    pub fn exited(&mut self, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.child.try_wait().ok().flatten().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.call(Method::GET, path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    pub fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        let _ = self.child.wait();
    }
}

/// An error answer: the status and the JSON `error` code, with a message naming `what`.
pub fn assert_error(r: (u16, String), status: u16, code: &str, what: &str) {
    assert_eq!(r.0, status, "{}", r.1);
    let v: serde_json::Value =
        serde_json::from_str(&r.1).unwrap_or_else(|e| panic!("{e}: {}", r.1));
    assert_eq!(v["error"], code, "{}", r.1);
    let msg = v["message"].as_str().unwrap_or_default();
    assert!(msg.contains(what), "{msg:?} should name {what:?}");
}
