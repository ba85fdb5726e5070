use clap::Parser;

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
