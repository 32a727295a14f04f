//! A plugin exporting `assay:env/environment@0.9.0`, a version this host
//! does not support: loading it must fail with a message saying what to do.

wit_bindgen::generate!({
    inline: r#"
        package assay:env@0.9.0;
        interface environment {
            describe: func() -> string;
        }
        world plugin {
            export environment;
        }
    "#,
});

struct Future;

impl exports::assay::env::environment::Guest for Future {
    fn describe() -> String {
        "from the future".into()
    }
}

// Exported only for wasm: natively (`cargo test --workspace`) there is no host to call it.
#[cfg(target_arch = "wasm32")]
export!(Future);
