//! What `assay plugin build` records in a component it made from Python
//! sources: a custom section named `assay-build` holding JSON (language,
//! sha256 of the sources, builder), appended at the component's top level
//! where wasmtime ignores it.
//!
//! componentize-py never builds the same bytes twice, so the file's sha256
//! would change on every rebuild of unchanged sources; the host uses the
//! recorded source hash for job identity instead, and the language to give
//! CPython components the room they need (see `sandbox`).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The custom section's name.
const SECTION: &str = "assay-build";

/// The language of components built from Python sources.
pub const PYTHON: &str = "python";

/// How a component was built, as recorded by `assay plugin build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The source language (`python`).
    pub language: String,
    /// sha256 (hex) of everything the component was built from.
    pub source_sha256: String,
    /// The tool and version that built it, e.g. `componentize-py 0.25.1`.
    pub builder: String,
}

impl BuildInfo {
    /// The build info of a component's bytes, if it has one.
    pub fn of(bytes: &[u8]) -> Option<BuildInfo> {
        let mut at = 8; // magic and version/layer
        while at < bytes.len() {
            let id = bytes[at];
            let (size, after_size) = leb128(bytes, at + 1)?;
            let end = after_size.checked_add(size)?;
            let payload = bytes.get(after_size..end)?;
            if id == 0 {
                let (name_len, after_name_len) = leb128(payload, 0)?;
                let name = payload.get(after_name_len..after_name_len.checked_add(name_len)?)?;
                if name == SECTION.as_bytes() {
                    return serde_json::from_slice(&payload[after_name_len + name_len..]).ok();
                }
            }
            at = end;
        }
        None
    }

    /// The build info of the component in `path`, if it exists and has one.
    pub fn of_file(path: &Path) -> Option<BuildInfo> {
        BuildInfo::of(&std::fs::read(path).ok()?)
    }

    /// Append this as a custom section to a component's bytes.
    pub fn append_to(&self, component: &mut Vec<u8>) {
        let json = serde_json::to_vec(self).expect("build info is JSON");
        let mut payload = Vec::new();
        push_leb128(&mut payload, SECTION.len());
        payload.extend_from_slice(SECTION.as_bytes());
        payload.extend_from_slice(&json);
        component.push(0);
        push_leb128(component, payload.len());
        component.extend_from_slice(&payload);
    }
}

/// An unsigned LEB128 number at `at`, and where it ends.
fn leb128(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, at));
        }
    }
    None
}

fn push_leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_info_round_trips_after_other_sections() {
        // A component header, then an empty custom section named "x" and a
        // type section of 300 bytes (a two-byte size).
        let mut bytes = vec![0, b'a', b's', b'm', 0x0d, 0, 1, 0, 0, 2, 1, b'x', 7, 0xac, 0x02];
        bytes.extend(std::iter::repeat_n(0u8, 300));
        assert_eq!(BuildInfo::of(&bytes), None);
        let info = BuildInfo {
            language: PYTHON.into(),
            source_sha256: "ab".repeat(32),
            builder: "componentize-py 0.25.1".into(),
        };
        info.append_to(&mut bytes);
        assert_eq!(BuildInfo::of(&bytes), Some(info));
        assert_eq!(BuildInfo::of(&bytes[..bytes.len() - 1]), None, "a cut section is not read");
    }
}
