//! (To be written.)
use crate::report::Report;

#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn smoke() -> Self {
        Self {}
    }
}

pub fn run(args: Args) -> anyhow::Result<Report> {
    let _ = args;
    anyhow::bail!("not written yet")
}
