//! `assay plugin new`: a new plugin project from a template, ready to build
//! and to pass `assay plugin check` on its sample data: a Rust crate, or a
//! Python project (`--lang python`).
//!
//! The templates live in `host/templates/plugin/` (Rust) and
//! `host/templates/plugin-python/` and are compiled into the binary; both
//! languages share each template's sample data. `{{name}}` (the package),
//! `{{crate_name}}` (its Rust name), `{{module}}` (its Python module),
//! `{{template}}` and `{{sdk_path}}` are filled in. The crate depends on the SDK by path (this checkout's
//! `plugin-sdk/` unless `--sdk` says otherwise) and has an empty
//! `[workspace]`, so it builds wherever it is created, also inside another
//! cargo workspace.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

/// Which kind of benchmark the new plugin starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    /// Yes/no/maybe question answering (like PubMedQA).
    Qa,
    /// Multiple choice with lettered options and seeded shuffling.
    Mcq,
    /// Numeric answers (like GSM8K).
    Math,
}

/// The language a new plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lang {
    /// A Rust crate using `plugin-sdk/`.
    Rust,
    /// A Python project using `plugin-sdk-python/`, built with componentize-py.
    Python,
}

/// The template files: (path in the new project, contents). `{{module}}`
/// in a path is filled in too.
fn files(template: Template, lang: Lang) -> Vec<(&'static str, &'static str)> {
    match lang {
        Lang::Rust => rust_files(template).to_vec(),
        Lang::Python => python_files(template).to_vec(),
    }
}

fn python_files(template: Template) -> [(&'static str, &'static str); 7] {
    macro_rules! template_files {
        ($dir:literal) => {
            [
                ("pyproject.toml", include_str!("../../templates/plugin-python/common/pyproject.toml")),
                (".gitignore", include_str!("../../templates/plugin-python/common/gitignore")),
                ("conftest.py", include_str!("../../templates/plugin-python/common/conftest.py")),
                ("README.md", include_str!("../../templates/plugin-python/common/README.md")),
                ("{{module}}.py", include_str!(concat!("../../templates/plugin-python/", $dir, "/env.py"))),
                ("tests/test_env.py", include_str!(concat!("../../templates/plugin-python/", $dir, "/test_env.py"))),
                ("data/sample.jsonl", include_str!(concat!("../../templates/plugin/", $dir, "/data/sample.jsonl"))),
            ]
        };
    }
    match template {
        Template::Qa => template_files!("qa"),
        Template::Mcq => template_files!("mcq"),
        Template::Math => template_files!("math"),
    }
}

fn rust_files(template: Template) -> [(&'static str, &'static str); 6] {
    macro_rules! template_files {
        ($dir:literal) => {
            [
                ("Cargo.toml", include_str!("../../templates/plugin/common/Cargo.toml")),
                (".gitignore", include_str!("../../templates/plugin/common/gitignore")),
                ("src/lib.rs", include_str!(concat!("../../templates/plugin/", $dir, "/src/lib.rs"))),
                ("tests/env.rs", include_str!(concat!("../../templates/plugin/", $dir, "/tests/env.rs"))),
                ("data/sample.jsonl", include_str!(concat!("../../templates/plugin/", $dir, "/data/sample.jsonl"))),
                ("README.md", include_str!(concat!("../../templates/plugin/", $dir, "/README.md"))),
            ]
        };
    }
    match template {
        Template::Qa => template_files!("qa"),
        Template::Mcq => template_files!("mcq"),
        Template::Math => template_files!("math"),
    }
}

/// The file that marks an SDK directory, and the directory's name in a checkout.
fn sdk_marker(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Rust => ("Cargo.toml", "plugin-sdk"),
        Lang::Python => ("assay_env/__init__.py", "plugin-sdk-python"),
    }
}

/// The SDK for `lang` of the checkout this assay was built from, if it is still there.
pub(crate) fn default_sdk_path(lang: Lang) -> Option<PathBuf> {
    let (marker, folder) = sdk_marker(lang);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(folder);
    path.join(marker).is_file().then(|| path.canonicalize().unwrap_or(path))
}

/// Create the project `name` in `dir` (which must not exist or be empty).
pub(crate) fn create(dir: &Path, name: &str, template: Template, lang: Lang, sdk: &Path) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    let (marker, folder) = sdk_marker(lang);
    if !sdk.join(marker).is_file() {
        bail!("{} is not the assay plugin SDK (no {marker}); pass --sdk <path to {folder}>", sdk.display());
    }
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} already exists and is not empty", dir.display());
    }
    let sdk = sdk.canonicalize().with_context(|| format!("cannot resolve {}", sdk.display()))?;
    let mut written = Vec::new();
    let module = name.replace('-', "_");
    let template_name = template.to_possible_value().expect("templates have names").get_name().to_string();
    for (relative, text) in files(template, lang) {
        let path = dir.join(relative.replace("{{module}}", &module));
        std::fs::create_dir_all(path.parent().expect("template files are in a directory"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let text = text
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &module)
            .replace("{{module}}", &module)
            .replace("{{template}}", &template_name)
            .replace("{{sdk_path}}", &sdk.display().to_string());
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// A package name cargo accepts and a `.wasm` file can be named after.
fn check_name(name: &str) -> Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!("plugin name `{name}`: use lowercase letters, digits, `-` and `_`, starting with a letter");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_suit_cargo_and_file_names() {
        assert!(check_name("pubmedqa").is_ok() && check_name("my-bench_2").is_ok());
        for bad in ["", "2fast", "MyBench", "my bench", "a/b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_template_fills_its_placeholders() {
        for (lang, manifest) in [(Lang::Rust, "Cargo.toml"), (Lang::Python, "pyproject.toml")] {
            for template in [Template::Qa, Template::Mcq, Template::Math] {
                let dir = tempfile::tempdir().unwrap();
                let sdk = default_sdk_path(lang).expect("tests run in the checkout");
                let written = create(&dir.path().join("x"), "my-bench", template, lang, &sdk).unwrap();
                for path in written {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(!path.to_string_lossy().contains("{{"), "{}", path.display());
                    for placeholder in ["{{name}}", "{{crate_name}}", "{{module}}", "{{template}}", "{{sdk_path}}"] {
                        assert!(!text.contains(placeholder), "{template:?}: {} keeps {placeholder}", path.display());
                    }
                }
                let manifest = std::fs::read_to_string(dir.path().join("x").join(manifest)).unwrap();
                assert!(manifest.contains("name = \"my-bench\"") && manifest.contains(&sdk.display().to_string()));
            }
        }
    }
}
