//! The names users give things: rule ids, stream and table names, plugin and service
//! names. Every one of them ends up in a URL path segment, a file name or a state
//! scope, so the same few rules hold for all of them, checked in one place.
//!
//! - at most [`MAX_NAME_LEN`] bytes;
//! - not made only of dots (`.` and `..` name folders, not things);
//! - no `/`, `\` or control characters (they would split a path or a log line).

/// The longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// Checks `name`, a `what` ("rule id", "stream name", …); the error says which rule
/// the name breaks.
pub fn check(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "the {what} is {} bytes long; at most {MAX_NAME_LEN} are allowed",
            name.len()
        ));
    }
    if name.chars().all(|c| c == '.') {
        return Err(format!(
            "invalid {what} {name:?}: a name cannot be only dots"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(format!(
            "invalid {what} {:?}: it contains {c:?}, which no name may contain",
            shown(name)
        ));
    }
    Ok(())
}

/// A name as an error message shows it: cut at 64 characters.
pub fn shown(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &name[..i]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_slashes_controls_and_length_are_refused() {
        assert!(check("rule id", "r1.v2-x").is_ok());
        assert!(check("rule id", "").is_err());
        for bad in [".", "..", "...", "a/b", "../x", "a\\b", "a\nb", "a\u{7}"] {
            assert!(check("rule id", bad).is_err(), "{bad:?}");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        let e = check("stream name", &long).expect_err("too long");
        assert!(e.contains("256 bytes"), "{e}");
        assert!(check("stream name", &long[..MAX_NAME_LEN]).is_ok());
    }
}
