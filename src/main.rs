//! The `ociunit` command line; [`cli`] defines it.

mod cli;

/// mimalloc rather than glibc's malloc: compiling a bundle allocates and frees hundreds of
/// small values (JSON documents, property tables, template values), and the generator compiles
/// every declared bundle on every core at each daemon-reload. glibc's free lists took a third
/// of its instructions; mimalloc's per-thread pages take a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
