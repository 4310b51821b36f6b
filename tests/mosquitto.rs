//! A real mosquitto broker for the tests: started on a free loopback port with its own
//! config and persistence folder (so sessions and qos 1 messages outlive a restart),
//! stopped (SIGTERM, which saves its state) on drop. The README's test command installs
//! it from Debian.

use crate::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Mosquitto {
    pub port: u16,
    /// A second, TLS listener (see [`Mosquitto::start_tls`]).
    pub tls_port: Option<u16>,
    dir: PathBuf,
    child: Option<Child>,
}

impl Mosquitto {
    /// A broker whose config and persistence live in `dir`.
    pub fn start(dir: &Path) -> Mosquitto {
        let mut m = Mosquitto {
            port: free_port(),
            tls_port: None,
            dir: dir.to_path_buf(),
            child: None,
        };
        m.restart();
        m
    }

    /// A broker with a TLS listener too, serving `cert.pem` and `key.pem` (issued by `ca.pem`) of `dir`
    /// (the caller writes them), and asking no client certificate.
    pub fn start_tls(dir: &Path) -> Mosquitto {
        let mut m = Mosquitto {
            port: free_port(),
            tls_port: Some(free_port()),
            dir: dir.to_path_buf(),
            child: None,
        };
        m.restart();
        m
    }

    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// The broker's process id while it runs (the benches read its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Stops the broker gracefully (it saves its sessions).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    /// Starts (again) on the same port, with the saved sessions.
    pub fn restart(&mut self) {
        self.stop();
        std::fs::create_dir_all(&self.dir).expect("mkdir");
        let conf = self.dir.join("mosquitto.conf");
        // Started as root, mosquitto switches to its own user, which cannot write
        // this folder: keep the user we are.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let user = if root { "user root\n" } else { "" };
        let tls = match self.tls_port {
            Some(p) => format!(
                "listener {p} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/cert.pem\nkeyfile {d}/key.pem\n",
                d = self.dir.display()
            ),
            None => String::new(),
        };
        std::fs::write(
            &conf,
            format!(
                "{user}listener {} 127.0.0.1\n{tls}allow_anonymous true\npersistence true\npersistence_location {}/\nmax_queued_messages 100000\nautosave_interval 1\nlog_dest file {}/mosquitto.log\nlog_type error\nlog_type warning\nlog_type notice\n",
                self.port,
                self.dir.display(),
                self.dir.display()
            ),
        )
        .expect("conf");
        let bin = ["mosquitto", "/usr/sbin/mosquitto"]
            .into_iter()
            .find(|b| {
                Command::new(b)
                    .arg("-h")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok()
            })
            .expect("mosquitto (installed by scripts/test.sh)");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto");
        self.child = Some(child);
        let start = Instant::now();
        let last = self.tls_port.unwrap_or(self.port);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", last)).is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "mosquitto did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
