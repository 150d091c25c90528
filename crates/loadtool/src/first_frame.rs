//! (To be written.)

use crate::report::Report;
use crate::server::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
}

impl Args {
    pub fn smoke(server: &ServerArgs) -> Self {
        Self {
            server: server.clone(),
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let _ = args;
    anyhow::bail!("not written yet")
}
