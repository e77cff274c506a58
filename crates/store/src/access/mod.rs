//! Principals and their tokens.

pub mod principals;
pub mod tokens;
