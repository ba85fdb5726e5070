//! Parsers for Shopify's admin CSV exports (SHOPIFY.md §8): orders and products.
//!
//! Pure: no database, no async, no clock. Both parsers stream: they hold one order's (or one
//! product's) rows at a time, so a 10 GB export parses in constant memory (plus 8 bytes per
//! distinct order name, to notice an order whose rows are not contiguous).
//!
//! Columns are found by header name (trimmed, case-insensitive), never by position: the
//! trailing columns change with the export date. A file without a required column fails at
//! once with [`CsvFileError::MissingColumns`]; a bad row becomes a [`Skipped`] item and parsing
//! goes on. No input makes these parsers panic (see `proptests.rs`).
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use shoprecs::csv_import::orders::OrdersReader;
//! let file = std::fs::File::open("orders_export.csv")?;
//! for item in OrdersReader::new(std::io::BufReader::new(file))? {
//!     match item {
//!         Ok(order) => println!("{} with {} lines", order.name, order.lines.len()),
//!         Err(skipped) => eprintln!("{skipped}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod orders;
pub mod products;
mod rows;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use orders::{ImportedLine, ImportedOrder, OrdersReader};
pub use products::{ImportedProduct, ImportedVariant, ProductsReader};

/// A row (or a whole order / product) the parser could not use. Parsing continues after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line of the file where the offending row starts (quoted fields may span lines).
    pub line: u64,
    /// What was wrong, in words a merchant can act on.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: skipped: {}", self.line, self.reason)
    }
}

/// The file as a whole cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum CsvFileError {
    /// The header lacks columns the parser needs: most likely not this kind of export.
    #[error("not a Shopify {export} export: the header has no {} column", quoted(.missing))]
    MissingColumns {
        /// "orders" or "products".
        export: &'static str,
        /// The missing header names.
        missing: Vec<&'static str>,
    },
    /// The header line itself could not be read (I/O error or not UTF-8).
    #[error("could not read the CSV header")]
    Header(#[source] csv::Error),
}

fn quoted(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    q.join(", ")
}
