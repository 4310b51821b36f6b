//! The quick-start demo: writes an embedded root (a simulator stream, one rule, the log
//! and file sinks) and serves it. In a source checkout it also builds the example
//! WebAssembly plugins and adds a rule calling the stateful `accumulateWordCount`
//! component.

use std::path::PathBuf;
use std::time::Duration;
use tributary_core::Error;

const INIT: &str = include_str!("../demo/init.json");
const SIMULATOR: &str = include_str!("../demo/simulator.yaml");
const WASM_RULE: &str = include_str!("../demo/wasm-rule.json");

/// Builds the example components with `scripts/build-guests.sh` when run from a source
/// checkout, and copies them into the demo root. Returns whether they are there.
fn install_wasm_examples(root: &std::path::Path) -> bool {
    let script = PathBuf::from("scripts/build-guests.sh");
    let built = PathBuf::from("target/example-roots/wasm/plugins/functions");
    if !built.join("accumulateWordCount.wasm").exists() {
        if !script.exists() {
            return false;
        }
        eprintln!("Building the example WebAssembly plugins (first run only)...");
        let ok = std::process::Command::new("bash")
            .arg(&script)
            .stdout(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("(could not build the wasm examples; the demo runs without them)");
            return false;
        }
    }
    let dest = root.join("plugins").join("functions");
    if std::fs::create_dir_all(&dest).is_err() {
        return false;
    }
    std::fs::copy(
        built.join("accumulateWordCount.wasm"),
        dest.join("accumulateWordCount.wasm"),
    )
    .is_ok()
}

pub async fn run(root: PathBuf, seconds: Option<u64>) -> Result<(), Error> {
    let data = root.join("data");
    let sources = root.join("etc").join("sources");
    std::fs::create_dir_all(&data)?;
    std::fs::create_dir_all(&sources)?;
    let data = std::fs::canonicalize(&data)?;
    let output = data.join("demo-output.jsonl");
    let init = INIT.replace("@OUTPUT@", &output.display().to_string().replace('\\', "/"));
    let with_wasm = install_wasm_examples(&root);
    let init = if with_wasm {
        let mut set: serde_json::Value = serde_json::from_str(&init)
            .map_err(|e| Error::internal(format!("demo ruleset: {e}")))?;
        if let Some(rules) = set.get_mut("rules").and_then(|r| r.as_object_mut()) {
            rules.insert(
                "wordTally".into(),
                serde_json::Value::String(WASM_RULE.trim().to_string()),
            );
        }
        set.to_string()
    } else {
        init
    };
    std::fs::write(data.join("init.json"), init)?;
    std::fs::write(sources.join("simulator.yaml"), SIMULATOR)?;
    eprintln!(
        "Tributary demo: simulated sensors -> rule hotDevices (WHERE temperature > 25, °F, upper) -> log + {}",
        output.display()
    );
    if with_wasm {
        eprintln!(
            "                and rule wordTally: the wasm component accumulateWordCount keeps a running word count in its state"
        );
    }
    eprintln!("Press Ctrl-C to stop.");
    super::serve::run(
        root,
        "127.0.0.1:9081".to_string(),
        seconds.map(Duration::from_secs),
        true,
        Default::default(),
    )
    .await
}
