//! Shopify's orders export: one row per line item, order-level columns only on an order's
//! first row (blank on the rest), rows grouped by `Name`.

use std::io::Read;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::rows::{decimal, integer, timestamp, Columns, Group, Groups, Row};
use super::{CsvFileError, Skipped};

/// Columns without which the file is not an orders export.
pub const REQUIRED_COLUMNS: [&str; 4] =
    ["Name", "Created at", "Lineitem quantity", "Lineitem name"];

/// One order of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedOrder {
    /// `Name`, e.g. "#1001": unique per shop, the grouping key.
    pub name: String,
    /// `Id`, the numeric Shopify order id (absent in some older exports).
    pub order_id: Option<i64>,
    /// `Email`, trimmed and lower-cased; `None` for a guest without one. Personal data: the
    /// caller hashes it and never stores it.
    pub customer_key: Option<String>,
    /// `Created at`.
    pub created_at: DateTime<Utc>,
    /// `Cancelled at`; cancelled orders do not count as purchases.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `Financial Status` ("paid", "refunded", "partially_refunded", ...).
    pub financial_status: Option<String>,
    /// `Currency` (ISO code).
    pub currency: Option<String>,
    /// `Total`.
    pub total: Option<Decimal>,
    /// `Refunded Amount`.
    pub refunded_amount: Option<Decimal>,
    /// File line of the order's first row.
    pub line: u64,
    /// Its line items in file order (bad rows left out, each reported as [`Skipped`]).
    pub lines: Vec<ImportedLine>,
}

/// One line item.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedLine {
    /// File line of the row.
    pub line_number: u64,
    /// `Lineitem name`: "Product - Variant" (just "Product" for a single-variant product).
    pub name: String,
    /// `Lineitem sku`; often empty. Match products by SKU, else by name.
    pub sku: String,
    /// `Lineitem quantity` (≥ 0).
    pub quantity: i32,
    /// `Lineitem price`: the unit price.
    pub price: Option<Decimal>,
    /// `Vendor` of the line's product.
    pub vendor: Option<String>,
    /// The orders export has no gift-card column: always false here; the importer may set it
    /// from the products export.
    pub gift_card: bool,
}

struct Cols {
    email: Option<usize>,
    id: Option<usize>,
    financial_status: Option<usize>,
    currency: Option<usize>,
    total: Option<usize>,
    created_at: Option<usize>,
    cancelled_at: Option<usize>,
    refunded: Option<usize>,
    quantity: Option<usize>,
    item_name: Option<usize>,
    price: Option<usize>,
    sku: Option<usize>,
    vendor: Option<usize>,
}

impl Cols {
    fn new(c: &Columns) -> Self {
        Self {
            email: c.find(&["Email"]),
            id: c.find(&["Id"]),
            financial_status: c.find(&["Financial Status"]),
            currency: c.find(&["Currency"]),
            total: c.find(&["Total"]),
            created_at: c.find(&["Created at"]),
            cancelled_at: c.find(&["Cancelled at"]),
            refunded: c.find(&["Refunded Amount"]),
            quantity: c.find(&["Lineitem quantity"]),
            item_name: c.find(&["Lineitem name"]),
            price: c.find(&["Lineitem price"]),
            sku: c.find(&["Lineitem sku"]),
            vendor: c.find(&["Vendor"]),
        }
    }
}

/// Streams the orders of an export, in file order. Each item is an order or a skipped row
/// (or a whole skipped order, reported at its first row's line).
pub struct OrdersReader<R> {
    groups: Groups<R>,
    cols: Cols,
    pending: Vec<Result<ImportedOrder, Skipped>>,
}

impl<R: Read> OrdersReader<R> {
    /// Reads the header; fails when a column of [`REQUIRED_COLUMNS`] is missing. Pass a
    /// buffered reader for files (the CSV reader buffers too, so a `File` also works).
    pub fn new(input: R) -> Result<Self, CsvFileError> {
        let (groups, columns) = Groups::open(input, "orders", "Name", &REQUIRED_COLUMNS)?;
        Ok(Self {
            groups,
            cols: Cols::new(&columns),
            pending: Vec::new(),
        })
    }

    /// Turns one order's rows into the order plus the rows it had to skip (in reverse file
    /// order, ready to pop).
    fn convert(&self, g: Group) -> Vec<Result<ImportedOrder, Skipped>> {
        let first_line = g.rows.first().map_or(0, |r| r.line);
        if g.repeated {
            let reason = Skipped {
                line: first_line,
                reason: format!(
                    "order {} appears again, apart from its earlier rows (an export keeps an \
                     order's rows together; is this a second export pasted in?)",
                    g.key
                ),
            };
            return g.into_stack(None, vec![reason]);
        }
        let mut order = match self.order_fields(&g.key, &g.rows[0]) {
            Ok(o) => o,
            Err(reason) => {
                let reason = Skipped {
                    line: first_line,
                    reason: format!("order {}: {reason}", g.key),
                };
                return g.into_stack(None, vec![reason]);
            }
        };
        let mut skipped = Vec::new();
        for row in &g.rows {
            match self.line_fields(row) {
                Ok(l) => order.lines.push(l),
                Err(reason) => skipped.push(Skipped {
                    line: row.line,
                    reason: format!("line item of order {}: {reason}", g.key),
                }),
            }
        }
        g.into_stack(Some(order), skipped)
    }

    fn order_fields(&self, name: &str, row: &Row) -> Result<ImportedOrder, String> {
        let c = &self.cols;
        let created_at = timestamp(row, c.created_at, "Created at")?
            .ok_or("\"Created at\" is empty on the order's first row")?;
        let customer_key = Some(row.get(c.email).to_lowercase()).filter(|e| !e.is_empty());
        Ok(ImportedOrder {
            name: name.to_owned(),
            order_id: integer(row, c.id, "Id")?,
            customer_key,
            created_at,
            cancelled_at: timestamp(row, c.cancelled_at, "Cancelled at")?,
            financial_status: row.opt(c.financial_status),
            currency: row.opt(c.currency),
            total: decimal(row, c.total, "Total")?,
            refunded_amount: decimal(row, c.refunded, "Refunded Amount")?,
            line: row.line,
            lines: Vec::new(),
        })
    }

    fn line_fields(&self, row: &Row) -> Result<ImportedLine, String> {
        let c = &self.cols;
        let name = row.get(c.item_name);
        if name.is_empty() {
            return Err("\"Lineitem name\" is empty".to_owned());
        }
        let quantity = integer::<i32>(row, c.quantity, "Lineitem quantity")?
            .filter(|q| *q >= 0)
            .ok_or_else(|| {
                super::rows::bad(
                    "Lineitem quantity",
                    row.get(c.quantity),
                    "a whole number ≥ 0",
                )
            })?;
        Ok(ImportedLine {
            line_number: row.line,
            name: name.to_owned(),
            sku: row.get(c.sku).to_owned(),
            quantity,
            price: decimal(row, c.price, "Lineitem price")?,
            vendor: row.opt(c.vendor),
            gift_card: false,
        })
    }
}

impl<R: Read> Iterator for OrdersReader<R> {
    type Item = Result<ImportedOrder, Skipped>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop() {
                return Some(item);
            }
            match self.groups.next()? {
                Ok(g) => self.pending = self.convert(g),
                Err(s) => return Some(Err(s)),
            }
        }
    }
}
