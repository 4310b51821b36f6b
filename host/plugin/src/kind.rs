//! The kinds of plugin, named after their folders under `<root>/plugins/` and
//! `<root>/etc/` (eKuiper's plural type names).

/// What a plugin extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PluginKind {
    Function,
    Source,
    Sink,
}

impl PluginKind {
    pub const ALL: [PluginKind; 3] = [PluginKind::Function, PluginKind::Source, PluginKind::Sink];

    /// The folder under `plugins/` and `etc/`: `functions`, `sources`, `sinks`.
    pub fn folder(self) -> &'static str {
        match self {
            PluginKind::Function => "functions",
            PluginKind::Source => "sources",
            PluginKind::Sink => "sinks",
        }
    }

    /// `function`, `source`, `sink`.
    pub fn singular(self) -> &'static str {
        match self {
            PluginKind::Function => "function",
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
        }
    }

    /// The kind of a folder name.
    pub fn from_folder(s: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.folder() == s)
    }

    /// The kind a manifest names, singular or plural.
    pub fn parse(s: &str) -> Option<PluginKind> {
        PluginKind::ALL
            .into_iter()
            .find(|k| k.folder() == s || k.singular() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        for k in PluginKind::ALL {
            assert_eq!(PluginKind::from_folder(k.folder()), Some(k));
            assert_eq!(PluginKind::parse(k.singular()), Some(k));
            assert_eq!(PluginKind::parse(k.folder()), Some(k));
        }
        assert_eq!(PluginKind::from_folder("function"), None);
    }
}
