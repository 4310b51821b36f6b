//! The `tally` sink: counts the rows it receives in the state counter `rows` and, per
//! delivery, logs `tally: +N rows (total T)` into the host's log. Props: `{"label": "…"}`
//! prefixes the log line. It needs no filesystem or network: a sink that only uses the
//! state and context APIs.

use std::cell::RefCell;
use tributary_guest::*;

struct Tally;

impl SinkPlugin for Tally {
    type Instance = TallySink;
}

struct TallySink {
    label: RefCell<String>,
}

fn label_of(props: &str) -> String {
    props
        .find("\"label\"")
        .and_then(|at| {
            let rest = props[at + 7..].trim_start().strip_prefix(':')?.trim_start();
            let rest = rest.strip_prefix('"')?;
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .unwrap_or_else(|| "tally".to_string())
}

impl SinkInstance for TallySink {
    fn new(props: String) -> Self {
        TallySink {
            label: RefCell::new(label_of(&props)),
        }
    }

    fn open(&self) -> Result<(), String> {
        Ok(())
    }

    fn collect(&self, rows: Vec<Vec<Field>>) -> Result<(), String> {
        let n = rows.len() as i64;
        let total = state::incr_counter("rows", n).map_err(|e| format!("state: {e:?}"))?;
        context::log(
            context::Level::Info,
            &format!("{}: +{n} rows (total {total})", self.label.borrow()),
        );
        Ok(())
    }

    fn close(&self) -> Result<(), String> {
        Ok(())
    }
}

tributary_guest::export_sink_plugin!(Tally);
