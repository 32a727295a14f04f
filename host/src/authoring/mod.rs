//! Writing plugins: scaffold a crate from a template ([`scaffold`]), build
//! it into a component ([`build`]), and check it on a dataset before any
//! model time is spent ([`check`]). The `assay plugin` commands are thin
//! wrappers over these.

pub(crate) mod build;
pub(crate) mod check;
pub(crate) mod python;
pub(crate) mod scaffold;
