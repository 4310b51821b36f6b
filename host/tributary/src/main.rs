//! The `tributary` command: `serve`, `trial`, the quick-start `demo`, and the
//! management commands (`stream`, `table`, `rule`, `data`) that talk to a server.

/// The engine allocates and frees many small rows per second; mimalloc handles that
/// pattern about 3x faster than glibc's allocator here (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use tributary::{cli, demo, serve, trial};

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tributary",
    version,
    about = "Edge stream processing with eKuiper's SQL and a three-tier extension host"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine with the streams, tables and rules of ROOT/data/init.json.
    Serve {
        /// The engine root: data/, etc/, plugins/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Address of the REST API.
        #[arg(long, default_value = "127.0.0.1:9081")]
        listen: String,
    },
    /// Run a rule against mock data on a mock clock; print one JSON line per emission.
    Trial {
        /// The trial spec (JSON).
        spec: PathBuf,
        /// The engine root (plugins, etc/, services); built-ins only without it.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Manage the streams of a running server.
    Stream {
        #[command(flatten)]
        remote: cli::Remote,
        #[command(subcommand)]
        verb: cli::StreamVerb,
    },
    /// Manage the tables of a running server.
    Table {
        #[command(flatten)]
        remote: cli::Remote,
        #[command(subcommand)]
        verb: cli::StreamVerb,
    },
    /// Manage the rules of a running server.
    Rule {
        #[command(flatten)]
        remote: cli::Remote,
        #[command(subcommand)]
        verb: cli::RuleVerb,
    },
    /// Manage the plugin packages of a running server (and `pack` one, offline).
    Plugin {
        #[command(flatten)]
        remote: cli::Remote,
        #[command(subcommand)]
        verb: cli::PluginVerb,
    },
    /// Manage the external services of a running server.
    Service {
        #[command(flatten)]
        remote: cli::Remote,
        #[command(subcommand)]
        verb: cli::ServiceVerb,
    },
    /// A consistent copy of a root (its store as one snapshot, etc/, plugins/), taken
    /// while its server runs; DEST is a root of its own.
    Backup {
        /// The root to back up.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The new folder the backup goes into.
        #[arg(long)]
        to: PathBuf,
    },
    /// Export or import everything (eKuiper's ruleset format).
    Data {
        #[command(flatten)]
        remote: cli::Remote,
        #[command(subcommand)]
        verb: cli::DataVerb,
    },
    /// The quick-start demo: a simulated sensor stream, a rule with a filter and
    /// built-in functions, and the log and file sinks. Runs until Ctrl-C.
    Demo {
        /// Where the demo's root is written (its output file lands in ROOT/data/).
        #[arg(long, default_value = "target/demo-root")]
        root: PathBuf,
        /// Stop after this many seconds instead of waiting for Ctrl-C.
        #[arg(long)]
        seconds: Option<u64>,
    },
}

/// The log on stderr (filtered by `RUST_LOG`, `info` by default) and, whatever that
/// filter, each plugin's recent lines for `/plugins/{kind}/{name}/logs`.
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_filter(filter);
    tracing_subscriber::registry()
        .with(stderr)
        .with(tributary::plugin_logs::layer())
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve { root, listen } => {
                // A test's failpoint (`staged`, `loaded`, `committed`, `renamed-one`):
                // where an install makes the process die, to check crash recovery.
                let failpoint = std::env::var("TRIBUTARY_FAILPOINT")
                    .map(|s| tributary_plugin::Failpoint::at(&s))
                    .unwrap_or_default();
                serve::run(root, listen, None, false, failpoint).await
            }
            Command::Trial { spec, root } => trial::run(spec, root).await,
            Command::Demo { root, seconds } => demo::run(root, seconds).await,
            Command::Stream { remote, verb } => cli::stream(remote, false, verb).await,
            Command::Table { remote, verb } => cli::stream(remote, true, verb).await,
            Command::Rule { remote, verb } => cli::rule(remote, verb).await,
            Command::Data { remote, verb } => cli::data(remote, verb).await,
            Command::Backup { root, to } => tributary::backup::run(&root, &to),
            Command::Plugin { remote, verb } => cli::plugin(remote, verb).await,
            Command::Service { remote, verb } => cli::service(remote, verb).await,
        }
    });
    // Every rule has been stopped and flushed by now; what is left (idle blocking
    // threads, a signal listener) must not delay the exit.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
