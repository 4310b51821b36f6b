//! The examples in docs/ are run, so the docs cannot drift from the code.

use std::path::Path;
use std::process::Command;
use tributary_tests::{serve_until, trial, workspace};

/// The fenced code blocks of a markdown file, as (language, body).
pub(crate) fn blocks(doc: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(workspace().join("docs").join(doc)).expect("doc");
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("```") {
            match current.take() {
                Some(block) => out.push(block),
                None => current = Some((rest.trim().to_string(), String::new())),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

pub(crate) fn block<'a>(all: &'a [(String, String)], lang: &str, nth: usize) -> &'a str {
    &all.iter()
        .filter(|(l, _)| l == lang)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {lang} block #{nth}"))
        .1
}

#[test]
fn trial_md_example_prints_what_the_doc_says() {
    let all = blocks("trial.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, block(&all, "json", 0)).expect("write");
    let (ok, stdout, stderr) = trial(&spec);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim_end(), block(&all, "text", 0).trim_end());
}

/// Every trial spec of sql.md (a json block with an "sql" key) prints exactly the text
/// block right after it.
#[test]
fn sql_md_examples_print_what_the_doc_says() {
    let all = blocks("sql.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for (i, (lang, body)) in all.iter().enumerate() {
        if lang != "json" {
            continue;
        }
        let is_spec =
            serde_json::from_str::<serde_json::Value>(body).is_ok_and(|v| v.get("sql").is_some());
        if !is_spec {
            continue;
        }
        let (next_lang, expected) = all
            .get(i + 1)
            .unwrap_or_else(|| panic!("sql.md: no block after the spec in block #{i}"));
        assert_eq!(
            next_lang, "text",
            "sql.md: the spec in block #{i} needs its output next"
        );
        let spec = dir.path().join(format!("spec{i}.json"));
        std::fs::write(&spec, body).expect("write");
        let (ok, stdout, stderr) = trial(&spec);
        assert!(ok, "sql.md block #{i}: {stderr}");
        assert_eq!(
            stdout.trim_end(),
            expected.trim_end(),
            "sql.md block #{i}: {body}"
        );
        checked += 1;
    }
    assert_eq!(checked, 5, "sql.md's window and join examples");
}

#[test]
fn configuration_md_root_runs() {
    let all = blocks("configuration.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    std::fs::write(root.join("data/init.json"), block(&all, "json", 0)).expect("init");
    std::fs::write(
        root.join("etc/sources/simulator.yaml"),
        block(&all, "yaml", 0),
    )
    .expect("conf");
    let (ok, log) = serve_until(root, |l| l.contains(r#"{"device":"b","temperature":27.5}"#));
    assert!(ok, "{log}");
    assert!(
        log.contains(r#"sink result for rule hot: [{"device":"b","temperature":27.5}]"#),
        "{log}"
    );
    assert!(!log.contains(r#""device":"a""#), "{log}");
}

#[test]
fn rules_md_example_rule_runs() {
    let all = blocks("rules.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let out = root.join("data/hot.jsonl");
    let rule = block(&all, "json", 0)
        .replace("/var/lib/tributary/hot.jsonl", out.to_str().expect("utf-8"));
    let init = serde_json::json!({
        "streams": {"sensors": "CREATE STREAM sensors (device STRING, temperature FLOAT) WITH (TYPE=\"simulator\", FORMAT=\"json\")"},
        "rules": {"hotDevices": rule},
    });
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    std::fs::write(
        root.join("etc/sources/simulator.yaml"),
        "default:\n  interval: 20\n  data:\n    - {\"device\": \"d\", \"temperature\": 30}\n",
    )
    .expect("conf");
    let (ok, log) = serve_until(root, |_| {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() >= 2)
    });
    assert!(ok, "{log}");
    let text = std::fs::read_to_string(&out).expect("output");
    assert_eq!(
        text.lines().next(),
        Some(r#"{"device":"d","f":86}"#),
        "{log}"
    );
}

#[test]
fn the_native_c_example_builds_and_runs_as_documented() {
    let doc = blocks("plugins/native.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("strlen.c");
    std::fs::write(&src, block(&doc, "c", 0)).expect("write c");
    let functions = dir.path().join("plugins/functions");
    std::fs::create_dir_all(&functions).expect("mkdir");
    let status = Command::new("cc")
        .args([
            "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-I",
        ])
        .arg(workspace().join("native-plugins/include"))
        .arg("-o")
        .arg(functions.join("strLen.so"))
        .arg(&src)
        .status()
        .expect("run cc");
    assert!(
        status.success(),
        "the documented C plugin must compile cleanly"
    );
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, block(&doc, "json", 0)).expect("spec");
    let out = tributary_tests::run(&[
        "trial",
        spec.to_str().expect("utf-8"),
        "--root",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), block(&doc, "text", 0));
}

#[test]
fn wasm_md_capability_examples_parse_and_the_file_sink_example_runs() {
    use tributary_plugin::grants::Grants;
    use tributary_plugin::manifest::Manifest;
    let all = blocks("plugins/wasm.md");
    // The general manifest and grants of the capabilities section, and configuration.md's.
    let general = block(&all, "json", 2);
    assert!(general.contains("\"env\""), "{general}");
    let m = Manifest::parse(general, Path::new("x.json")).expect("manifest");
    assert!(m.capabilities.etc && m.capabilities.dirs.len() == 2);
    let grants = block(&all, "yaml", 3);
    let g = Grants::parse(grants, Path::new("wasm.yaml")).expect("grants");
    assert!(g.of("fileSink").writable && g.limits.memory_mib == Some(64));
    let conf = blocks("configuration.md");
    let g = Grants::parse(block(&conf, "yaml", 2), Path::new("wasm.yaml")).expect("grants");
    assert_eq!(g.of("fileSink").env, ["TZ"]);

    // The fileSink example: the documented manifest is the one shipped, the documented
    // grants are the example root's, and the documented action writes JSON lines.
    let manifest = block(&all, "json", 0);
    let shipped =
        std::fs::read_to_string(workspace().join("guests/examples/file-sink/fileSink.json"))
            .expect("shipped manifest");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(manifest).expect("doc manifest"),
        serde_json::from_str::<serde_json::Value>(&shipped).expect("shipped manifest")
    );
    let grants = block(&all, "yaml", 0);
    assert_eq!(
        Grants::parse(grants, Path::new("wasm.yaml")).expect("doc grants"),
        Grants::load(tributary_tests::wasm_root()).expect("example grants")
    );
    let action: serde_json::Value =
        serde_json::from_str(block(&all, "json", 1)).expect("doc action");

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for d in ["plugins/sinks", "etc", "data"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::copy(
        tributary_tests::wasm_root().join("plugins/sinks/fileSink.wasm"),
        root.join("plugins/sinks/fileSink.wasm"),
    )
    .expect("copy");
    std::fs::write(root.join("plugins/sinks/fileSink.json"), manifest).expect("manifest");
    std::fs::write(root.join("etc/wasm.yaml"), grants).expect("grants");
    std::fs::write(
        root.join("data/in.json"),
        r#"[{"device": "a", "temperature": 21}, {"device": "b", "temperature": 27.5}]"#,
    )
    .expect("input");
    let rule = serde_json::json!({"id": "r", "sql": "SELECT * FROM s", "actions": [action]});
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (device STRING, temperature FLOAT) WITH (TYPE=\"file\", DATASOURCE=\"in.json\", FORMAT=\"json\")"},
        "rules": {"r": rule.to_string()}
    });
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    let out = root.join("data/fileSink/rows.jsonl");
    let (ok, log) = serve_until(root, |_| {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() >= 2)
    });
    assert!(ok, "{log}");
    assert_eq!(
        std::fs::read_to_string(&out).expect("output"),
        "{\"device\":\"a\",\"temperature\":21}\n{\"device\":\"b\",\"temperature\":27.5}\n",
        "{log}"
    );
}

#[test]
fn the_documented_service_file_loads() {
    let doc = blocks("external-functions.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let services = dir.path().join("etc/services");
    std::fs::create_dir_all(services.join("schemas")).expect("mkdir");
    std::fs::copy(
        workspace().join("examples/external-root/etc/services/schemas/hw.proto"),
        services.join("schemas/hw.proto"),
    )
    .expect("schema");
    std::fs::write(services.join("sample.json"), block(&doc, "json", 0)).expect("service");
    let fs =
        tributary_external::loader::load_services(dir.path()).expect("the documented file loads");
    let names: Vec<&str> = fs.iter().map(|f| f.name.as_str()).collect();
    for want in [
        "helloFromGrpc",
        "objectDetectFromGrpc",
        "helloFromRest",
        "tsschemaless",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let rest = fs
        .iter()
        .find(|f| f.name == "helloFromRest")
        .expect("helloFromRest");
    assert_eq!(rest.policy.timeout, std::time::Duration::from_millis(1000));
    assert_eq!(rest.policy.attempts, 3);
}

#[test]
fn the_documented_store_configuration_opens() {
    let doc = blocks("state.md");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/tributary.yaml"),
        block(&doc, "yaml", 0),
    )
    .expect("yaml");
    let store = tributary_state::open_store(dir.path()).expect("the documented file opens");
    assert_eq!(store.incr("s", "n", 2), Ok(2));
    assert!(dir.path().join("data/state.db").exists());
}

#[test]
fn wasm_md_lookup_table_example_runs() {
    let all = blocks("plugins/wasm.md");
    let (conf, table, select) = (
        block(&all, "yaml", 2),
        block(&all, "sql", 1).trim(),
        block(&all, "sql", 2).trim(),
    );
    assert!(conf.contains("lookup:") && table.contains("KIND=\"lookup\""));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let sources = root.join("plugins/sources");
    std::fs::create_dir_all(&sources).expect("mkdir");
    for f in ["jsonl.wasm", "jsonl.json"] {
        std::fs::copy(
            tributary_tests::wasm_root().join("plugins/sources").join(f),
            sources.join(f),
        )
        .expect("copy");
    }
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    std::fs::write(
        root.join("etc/wasm.yaml"),
        "grants:\n  jsonl:\n    dirs: [\"data\"]\n",
    )
    .expect("grants");
    std::fs::write(root.join("etc/sources/jsonl.yaml"), conf).expect("conf");
    std::fs::write(
        root.join("data/devices.jsonl"),
        "{\"id\":1,\"name\":\"pump\"}\n{\"id\":2,\"name\":\"fan\"}\n",
    )
    .expect("devices");
    std::fs::write(
        root.join("data/readings.json"),
        r#"[{"device":2,"v":20},{"device":9,"v":90},{"device":1,"v":10}]"#,
    )
    .expect("readings");
    let out = root.join("data/out.jsonl");
    let rule = serde_json::json!({
        "id": "enrich",
        "sql": select,
        "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}]
    });
    let init = serde_json::json!({
        "streams": {"r": "CREATE STREAM r (device BIGINT, v BIGINT) WITH (TYPE=\"file\", DATASOURCE=\"readings.json\")"},
        "tables": {"dev": table},
        "rules": {"enrich": rule.to_string()}
    });
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    let (_, log) = serve_until(root, |_| read().lines().count() == 3);
    assert_eq!(
        read().lines().collect::<Vec<_>>(),
        [
            r#"{"name":"fan","v":20}"#,
            r#"{"v":90}"#,
            r#"{"name":"pump","v":10}"#
        ],
        "{log}"
    );
}

/// cli.md's `plugin call` session: each `$ tributary plugin call NAME.wasm …` line run
/// on the example plugin of that name prints what the doc shows after it (stdout for
/// an answer, stderr for an `error:` line).
#[test]
fn cli_md_plugin_call_session_runs() {
    let all = blocks("cli.md");
    let session = all
        .iter()
        .find(|(l, b)| l == "text" && b.contains("$ tributary plugin call "))
        .map(|(_, b)| b.as_str())
        .expect("cli.md has a plugin call session");
    let mut ran = 0;
    let mut lines = session.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(cmd) = line.strip_prefix("$ tributary plugin call ") else {
            continue;
        };
        assert!(!cmd.contains('\''), "the session splits on spaces: {cmd}");
        let mut words: Vec<String> = cmd.split_whitespace().map(String::from).collect();
        let file = tributary_tests::wasm_root()
            .join("plugins/functions")
            .join(&words[0]);
        words[0] = file.display().to_string();
        let mut want = String::new();
        while let Some(next) = lines.peek().filter(|l| !l.starts_with("$ ")) {
            want.push_str(next);
            want.push('\n');
            lines.next();
        }
        let out = Command::new(tributary_tests::binary())
            .args(["plugin", "call"])
            .args(&words)
            .output()
            .expect("tributary");
        let got = if out.status.success() {
            String::from_utf8_lossy(&out.stdout).into_owned()
        } else {
            String::from_utf8_lossy(&out.stderr).into_owned()
        };
        assert_eq!(got, want, "{line}");
        ran += 1;
    }
    assert!(ran >= 2, "{session}");
}
