//! What a release ships beside the binary: `--version` names the commit, and the hidden
//! `completions` and `man` subcommands generate the files `scripts/dist.sh` packages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

#[test]
fn version_names_the_package_version_and_the_commit() {
    let out = common::run(&["--version"], None, &[]).ok("--version");
    let line = out.trim_end();
    let rest = line
        .strip_prefix(concat!("wa-flows-crypto ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {line:?}"));
    assert!(
        rest == "unknown" || (rest.len() >= 7 && rest.chars().all(|c| c.is_ascii_hexdigit())),
        "not a commit: {rest:?}"
    );
    // Built from a git checkout (as the tests are), it is a commit of this repository.
    let git = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "cat-file", "-e"])
        .arg(format!("{rest}^{{commit}}"))
        .status();
    if let Ok(status) = git {
        assert!(
            status.success(),
            "{rest} is not a commit of this repository"
        );
    }
}

#[test]
fn completions_cover_every_subcommand_in_each_shell() {
    let subcommands = [
        "keygen",
        "public-key",
        "decrypt-request",
        "decrypt-media",
        "demo",
    ];
    for (shell, marker) in [
        ("bash", "complete -F _wa__flows__crypto"),
        ("zsh", "#compdef wa-flows-crypto"),
        ("fish", "complete -c wa-flows-crypto"),
    ] {
        let out = common::run(&["completions", shell], None, &[]).ok(shell);
        assert!(out.contains(marker), "{shell}: no {marker:?}:\n{out}");
        for sub in subcommands {
            assert!(out.contains(sub), "{shell}: {sub} missing");
        }
    }
}

#[test]
fn completions_refuse_an_unknown_shell_as_a_usage_error() {
    let run = common::run(&["completions", "tcsh"], None, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn man_page_is_roff_for_section_one_with_every_subcommand() {
    let out = common::run(&["man"], None, &[]).ok("man");
    assert!(
        out.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &out[..out.len().min(200)]
    );
    assert!(out.contains(".TH wa-flows-crypto 1"), "no .TH line");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "no version");
    for sub in ["keygen", "decrypt\\-request", "check\\-endpoint", "demo"] {
        assert!(out.contains(sub), "{sub} missing");
    }
    assert!(
        !out.contains("completions"),
        "the man page lists `completions`"
    );
}

#[test]
fn help_does_not_list_the_generators() {
    let out = common::run(&["--help"], None, &[]).ok("--help");
    assert!(
        !out.contains("completions") && !out.contains("\n  man "),
        "{out}"
    );
}
