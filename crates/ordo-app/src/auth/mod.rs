//! API tokens and roles. A token is shown once; only its SHA-256 is stored (tokens are
//! 256 random bits, so a slow password hash would add nothing but latency).

pub mod service;

pub use service::{Partner, Principal, TokenError, TokenView, authenticate, create_token, list_tokens, revoke_token};
