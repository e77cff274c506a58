//! What every capability builds on and that knows none of them: closed code lists, ids,
//! field violations.

pub mod code_list;
pub mod id;
pub mod validation;
