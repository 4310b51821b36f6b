//! The CLI's standard output, as Unix tools treat it: when the reader goes away
//! (`tributary rule list | head -1`), the command ends quietly instead of panicking
//! in `println!` ("failed printing to stdout: Broken pipe"). Rust ignores SIGPIPE,
//! so the closed pipe arrives as a write error, handled here.

use std::io::{ErrorKind, Write};

/// Writes `text` and a newline to stdout. A closed pipe ends the process with
/// status 0, as `head`'s writer expects; another write error is reported on stderr
/// once and ends it with status 1.
pub fn line(text: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the CLI's answers, through [`line`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}
