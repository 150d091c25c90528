//! Owns the services the server-side benchmarks run against: a SecantusDB
//! process and a `streamshare serve` process, each started, pinned and
//! stopped by the load tool. (To be completed.)

use std::path::PathBuf;

/// Where the server binary and the database come from.
#[derive(clap::Args, Clone, Debug)]
pub struct ServerArgs {
    /// The `streamshare` server binary to start.
    #[arg(long, default_value = "target/release/streamshare")]
    pub server_bin: PathBuf,
    /// The SecantusDB server command.
    #[arg(long, default_value = "secantusd-py")]
    pub secantusd: String,
    /// CPU the server process is pinned to.
    #[arg(long, default_value_t = 0)]
    pub server_cpu: usize,
}
