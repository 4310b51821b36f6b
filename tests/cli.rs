//! The `tributary` command as the CLI tests run it: in a folder, its answer checked
//! with what it printed shown when it is not the expected kind.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `tributary ARGS` in `dir` with `env` added.
pub fn in_dir(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(crate::binary());
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("tributary")
}

/// The stdout of a command that must have succeeded.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{:?}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The stdout and stderr of a command that must have failed, and not by a panic of
/// the host.
pub fn refused_with_output(out: Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "accepted: {stdout}");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked at host"), "{err}");
    (stdout, err)
}

/// The stderr of a command that must have failed.
pub fn refused(out: Output) -> String {
    refused_with_output(out).1
}

/// Runs `tributary ARGS` in `dir` against the running server `s` (its address and
/// token), with `env` added.
pub fn remote(
    s: &crate::api_server::Server,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--host", &s.base]);
    if let Some(t) = s.token() {
        all.extend(["--token", t]);
    }
    in_dir(dir, &all, env)
}
