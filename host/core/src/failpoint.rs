//! Steps at which a test can make the process die, as `kill -9` would, to check that
//! what was being written survives a crash whole (plugin installs, imports). Set by
//! the binary from `TRIBUTARY_FAILPOINT`; a library only ever reads this field.

/// Steps at which a test can make the process die (`abort`, as `kill -9` would).
#[derive(Debug, Clone, Default)]
pub struct Failpoint(Option<String>);

impl Failpoint {
    /// Dies at step `at` (installs: `staged`, `loaded`, `committed`, `renamed-one`;
    /// imports: `import-checked`, `import-committed`).
    pub fn at(step: &str) -> Self {
        Failpoint(Some(step.to_string()))
    }

    pub fn hit(&self, step: &str) {
        if self.0.as_deref() == Some(step) {
            eprintln!("failpoint {step}: aborting the process");
            std::process::abort();
        }
    }
}
