//! shoprecs: a self-hosted, multi-tenant recommendation server for Shopify storefronts.

pub mod abandoned;
pub mod admin;
pub mod app;
pub mod cli;
mod cli_events;
mod cli_rebuild;
mod cli_segments;
pub mod config;
pub mod csv_import;
pub mod db;
pub mod demo;
pub mod demo_data;
pub mod email;
pub mod engine;
pub mod eval;
pub mod http;
pub mod importer;
pub mod ingest;
pub mod lifecycle;
pub mod outbox;
pub mod pg_embedded;
pub mod recs;
pub mod segment_eval;
pub mod segments;
pub mod shopify;
pub mod store;
pub mod telemetry;
