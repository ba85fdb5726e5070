//! Black-box tests over HTTP: the real application on port 0, a real Postgres (one embedded
//! cluster per test run, a fresh database per test), real Shopify payloads signed here.

mod helpers;

mod abandoned;
mod admin_auth;
mod admin_client;
mod admin_pages;
mod admin_session;
mod backfill;
mod browser;
mod demo;
mod events;
mod health;
mod import;
mod install;
mod openapi;
mod pixel;
mod privacy;
mod proxy;
mod recommendations;
mod replicas;
mod segments;
mod webhooks;
mod webhooks_apply;
mod writeback;
