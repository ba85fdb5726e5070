//! The merchant admin dashboard under `/admin`: who may see it (`auth`) and its pages.

pub mod auth;
