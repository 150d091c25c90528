//! (To be written.)
use crate::report::Report;

#[derive(clap::Args)]
pub struct Args {}

#[derive(clap::Args)]
pub struct HostArgs {}

impl Args {
    pub fn smoke() -> Self {
        Self {}
    }
}

pub fn run(args: Args) -> anyhow::Result<Report> {
    let _ = args;
    anyhow::bail!("not written yet")
}

pub fn host(args: HostArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("not written yet")
}
