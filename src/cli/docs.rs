//! `ociunit completions` and `ociunit man`: generated from the clap definition, so they never
//! disagree with the commands.

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use ociunit::error::Error;

use super::{Cli, print};

#[derive(Args)]
pub(super) struct Completions {
    #[arg(value_name = "SHELL")]
    shell: clap_complete::Shell,
}

impl Completions {
    pub(super) fn run(self) -> Result<u8, Error> {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "ociunit", &mut script);
        print(&String::from_utf8_lossy(&script))?;
        Ok(0)
    }
}

#[derive(Args)]
pub(super) struct Man {
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

impl Man {
    pub(super) fn run(self) -> Result<u8, Error> {
        let dir = self.dir;
        let failed = |err| Error::io("cannot write the man pages into", &dir, err);
        std::fs::create_dir_all(&dir).map_err(failed)?;
        clap_mangen::generate_to(Cli::command(), &dir).map_err(failed)?;
        clap_mangen::Man::new(ociunit::launch::manual::command())
            .generate_to(&dir)
            .map_err(failed)?;
        Ok(0)
    }
}
