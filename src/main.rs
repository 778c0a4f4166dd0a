//! The `ociunit` command line; [`cli`] defines it.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
