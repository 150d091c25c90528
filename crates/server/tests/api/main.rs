//! Black-box tests: the real server against a real MongoDB wire server.

mod accounts;
mod bad_input;
mod cascade;
mod cli;
mod cluster;
mod errors;
mod fair;
mod faults;
mod health;
mod helpers;
mod invariants;
mod ledger;
mod media;
mod media_plane;
mod metrics;
mod payments;
mod probe;
mod realtime;
mod rooms;
mod security;
mod shutdown;
mod socket;
mod turn;
mod web;
mod whip_whep;
