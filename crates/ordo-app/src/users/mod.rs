//! Staff users of the console: argon2-hashed passwords, roles, sign-in with lock-out,
//! sessions, one-time passwords that must be changed at first sign-in.

pub mod model;
pub mod service;
pub mod store;
pub mod totp;

pub use model::*;
pub use service::*;
