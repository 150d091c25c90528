//! StreamShare's control plane: HTTP API, accounts, rooms, the coin ledger.

pub mod access;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod media;
pub mod media_sessions;
pub mod metrics;
pub mod models;
pub mod pagination;
pub mod ratelimit;
pub mod realtime;
pub mod routes;
pub mod startup;
pub mod state;
