//! Shared helpers for the end-to-end tests in this folder.

pub mod fixtures;
pub mod hub_datasets;
pub mod hub_mock;
pub mod openai_mock;
pub mod piston_mock;
