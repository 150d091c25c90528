//! StreamShare's control plane: HTTP API, accounts, rooms, the coin ledger.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod cascade;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod mail;
pub mod media;
pub mod media_sessions;
pub mod metrics;
pub mod models;
pub mod pagination;
pub mod ratelimit;
pub mod realtime;
pub mod refunds;
pub mod routes;
pub mod serve;
pub mod signup;
pub mod startup;
pub mod state;
