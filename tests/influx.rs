//! A real InfluxDB 1.x server for the tests (Debian's `influxdb`, installed by the
//! README's test command): started on free loopback ports with its own config and
//! data folder, killed on drop. Queried back through its HTTP `/query`, as a user would.

use crate::{free_port, Process};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Influx {
    pub port: u16,
    _process: Process,
    client: reqwest::blocking::Client,
}

impl Influx {
    /// A server whose config, data and log live in `dir`.
    pub fn start(dir: &Path) -> Influx {
        let port = free_port();
        let d = dir.display();
        let conf = format!(
            "reporting-disabled = true\n\
             bind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
             [http]\n  enabled = true\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [continuous_queries]\n  enabled = false\n",
            rpc = free_port()
        );
        let path = dir.join("influxdb.conf");
        std::fs::write(&path, conf).expect("influxdb.conf");
        let log = std::fs::File::create(dir.join("influxd.log")).expect("influxd.log");
        let process = Process::spawn(
            Command::new("influxd")
                .arg("run")
                .arg("-config")
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log),
            "influxd (installed by scripts/test.sh)",
        );
        let influx = Influx {
            port,
            _process: process,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        };
        let start = Instant::now();
        while influx.get("/ping").map(|r| r.status().as_u16()) != Some(204) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "influxd did not start:\n{}",
                std::fs::read_to_string(dir.join("influxd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        influx
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Option<reqwest::blocking::Response> {
        self.client.get(format!("{}{path}", self.url())).send().ok()
    }

    /// Runs `q` (InfluxQL) on `db` with times in ms; returns the answer's JSON.
    pub fn query(&self, db: &str, q: &str) -> serde_json::Value {
        self.client
            .post(format!("{}/query", self.url()))
            .form(&[("db", db), ("q", q), ("epoch", "ms")])
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("query {q:?}: {e}"))
    }

    /// The rows of `q`'s first series as objects (column name to value), none when
    /// there is no series yet.
    pub fn rows(&self, db: &str, q: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let answer = self.query(db, q);
        let Some(series) = answer["results"][0]["series"][0].as_object() else {
            return Vec::new();
        };
        let columns: Vec<String> = series["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        series["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_array())
            .map(|v| columns.iter().cloned().zip(v.iter().cloned()).collect())
            .collect()
    }
}
