//! Shared helpers for the end-to-end tests in this folder.
// Each test binary uses a subset of the helpers.
#![allow(dead_code)]

pub mod fixtures;
pub mod hub_mock;
pub mod openai_mock;
pub mod piston_mock;
