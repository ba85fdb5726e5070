//! The merchant dashboard at `/admin`: server-rendered pages (askama), charts as inline SVG.

pub mod auth;
pub mod charts;
pub mod pages;
