//! The merchant dashboard under `/admin`: who may see it (`auth`), its server-rendered pages
//! (askama) and their charts (inline SVG).

pub mod auth;
pub mod charts;
pub mod pages;
