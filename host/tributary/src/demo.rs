//! The quick-start demo: writes an embedded root (a simulator stream, one rule, the log
//! and file sinks) and serves it.

use std::path::PathBuf;
use std::time::Duration;
use tributary_core::Error;

const INIT: &str = include_str!("../demo/init.json");
const SIMULATOR: &str = include_str!("../demo/simulator.yaml");

pub async fn run(root: PathBuf, seconds: Option<u64>) -> Result<(), Error> {
    let data = root.join("data");
    let sources = root.join("etc").join("sources");
    std::fs::create_dir_all(&data)?;
    std::fs::create_dir_all(&sources)?;
    let data = std::fs::canonicalize(&data)?;
    let output = data.join("demo-output.jsonl");
    let init = INIT.replace("@OUTPUT@", &output.display().to_string().replace('\\', "/"));
    std::fs::write(data.join("init.json"), init)?;
    std::fs::write(sources.join("simulator.yaml"), SIMULATOR)?;
    eprintln!(
        "Tributary demo: simulated sensors -> rule hotDevices (WHERE temperature > 25, °F, upper) -> log + {}",
        output.display()
    );
    eprintln!("Press Ctrl-C to stop.");
    super::serve::run(
        root,
        "127.0.0.1:9081".to_string(),
        seconds.map(Duration::from_secs),
    )
    .await
}
