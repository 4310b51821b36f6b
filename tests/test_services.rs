//! Serves the external-function test services on the example root's fixed ports, so
//! that `tributary trial --root target/example-roots/external SPEC.json` can be tried by
//! hand:
//!
//! ```sh
//! cargo run -p tributary-tests --bin test-services &
//! ```

fn main() -> std::io::Result<()> {
    let schemas = tributary_tests::workspace().join("examples/external-root/etc/services/schemas");
    tributary_tests::services::Services::serve_forever(&schemas, 51234, 50051)
}
