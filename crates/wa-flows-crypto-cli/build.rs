//! Records the commit the binary is built from, for `--version`: `git rev-parse --short HEAD`
//! when this crate sits in a git checkout of its own repository, else the commit `cargo
//! package` wrote into `.cargo_vcs_info.json`, else `$WA_FLOWS_CRYPTO_COMMIT`, else `unknown`.
//! Never fails the build: a missing git, a tarball or a vendored copy only lose the commit.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=WA_FLOWS_CRYPTO_COMMIT");
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = from_git(&dir)
        .or_else(|| from_vcs_info(&dir))
        .or_else(|| env::var("WA_FLOWS_CRYPTO_COMMIT").ok().and_then(clean))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=WFC_BUILD_COMMIT={commit}");
}

/// Runs git in `dir`; `None` if git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok().and_then(clean)
}

/// The short commit, if git tracks this crate's own manifest (so that a copy vendored into
/// somebody else's repository does not report their commit).
fn from_git(dir: &Path) -> Option<String> {
    git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    // Rebuild when HEAD moves: HEAD itself, the branch it points to, and packed refs.
    for path in ["HEAD", "packed-refs"] {
        if let Some(p) = git(dir, &["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={}", dir.join(p).display());
        }
    }
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(dir, &["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={}", dir.join(p).display());
    }
    git(dir, &["rev-parse", "--short", "HEAD"])
}

/// The commit `cargo package` recorded: `{"git": {"sha1": "…"}, …}`.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).ok()?;
    let rest = text.split("\"sha1\"").nth(1)?;
    let sha = rest.split('"').nth(1)?;
    clean(sha.chars().take(7).collect())
}

/// Keeps a commit-like string: trimmed, non-empty, only `[0-9A-Za-z._-]`.
fn clean(s: String) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    ok.then(|| s.to_owned())
}
