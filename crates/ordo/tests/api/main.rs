//! Black-box tests: each starts the real server on a random port with a database of its
//! own (an SQLite file, or a fresh PostgreSQL schema when ORDO_TEST_DATABASE_URL is set)
//! and talks HTTP to it like any client. One binary for all of them: faster to build.

mod helpers;

mod aftersales;
mod audit;
mod auth;
mod browser;
mod catalog;
mod channels;
mod concurrency;
mod console;
mod crash;
mod currency;
mod customers;
mod exports;
mod fulfillment;
mod idempotency;
mod imports;
mod integrations;
mod openapi;
mod orders;
mod packs;
mod payables;
mod payments;
mod portal;
mod processing;
mod promotions;
mod purchasing;
mod reports;
mod roles;
mod stock;
mod supply;
mod templates;
mod validation;
