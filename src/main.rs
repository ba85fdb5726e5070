use clap::Parser;

/// mimalloc instead of glibc's malloc: the storefront's hot path allocates small strings on
/// every request from several worker threads, where glibc's arenas contend (futex waits in a
/// profile under load; see docs/benchmarks.md, "Storefront widget latency").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = shoprecs::cli::Cli::parse();
    match shoprecs::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shoprecs: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
