//! A plugin for a supported API version (`assay:env@0.1.0`) that imports
//! `assay:env/filesystem@0.1.0`, an interface the host does not provide:
//! loading it must fail with one line naming the plugin and the import.
//!
//! Its export is cut down to `describe`: the host checks imports before
//! the export's types, so the rest of the interface would never be read.

wit_bindgen::generate!({
    inline: r#"
        package assay:env@0.1.0;
        interface filesystem {
            read-file: func(path: string) -> string;
        }
        interface environment {
            describe: func() -> string;
        }
        world plugin {
            import filesystem;
            export environment;
        }
    "#,
});

struct MissingImport;

impl exports::assay::env::environment::Guest for MissingImport {
    fn describe() -> String {
        // Use the import, so the component really needs it.
        assay::env::filesystem::read_file("/etc/hostname")
    }
}

// Exported only for wasm: natively (`cargo test --workspace`) there is no host to call it.
#[cfg(target_arch = "wasm32")]
export!(MissingImport);
