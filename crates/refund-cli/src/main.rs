//! `refund`: ask payment providers what happened to your refunds (see `docs/cli.md`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    refund_cli::main()
}
