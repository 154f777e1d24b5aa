//! The `ambient-host` command line: trains AmbientGAN models on libtorch, samples them and
//! reports the set-up. Each subcommand lives in its own file under `cli/`.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match args.command.run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Joins the error's chain with ": ". A cause whose text already ends the line is left out,
/// because most of our error messages include their source.
fn error_chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read data: {source}")]
    struct Outer {
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot train")]
    struct Bare {
        source: Outer,
    }

    fn missing() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")
    }

    #[test]
    fn chain_prints_included_source_once() {
        let error = anyhow::Error::new(Outer { source: missing() });
        assert_eq!(error_chain(&error), "cannot read data: no such file");
    }

    #[test]
    fn chain_appends_missing_source() {
        let error = anyhow::Error::new(Bare {
            source: Outer { source: missing() },
        });
        assert_eq!(
            error_chain(&error),
            "cannot train: cannot read data: no such file"
        );
    }

    #[test]
    fn chain_puts_context_first() {
        let error = anyhow::Error::new(missing()).context("opening RUN/config.json");
        assert_eq!(error_chain(&error), "opening RUN/config.json: no such file");
    }
}
