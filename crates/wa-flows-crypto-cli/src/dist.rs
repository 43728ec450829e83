//! What a package ships beside the binary, generated from the same clap definition: shell
//! completions and the man page. Hidden subcommands, so that `--help` stays about the crypto.

use std::io::Write;
use std::path::Path;

use crate::error::{CliError, CliResult};

/// Writes the completion script for `shell` to standard output.
pub(crate) fn completions(shell: clap_complete::Shell, cmd: &mut clap::Command) -> CliResult {
    let mut out = Vec::new();
    clap_complete::generate(shell, cmd, "wa-flows-crypto", &mut out);
    write_stdout(&out)
}

/// Writes the man page (section 1, roff) to standard output.
pub(crate) fn man(cmd: clap::Command) -> CliResult {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|err| CliError::io("render", Path::new("the man page"), &err))?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> CliResult {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|err| CliError::io("write", Path::new("standard output"), &err))
}
