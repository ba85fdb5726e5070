//! Shopify's products export: one row per variant plus image-only rows, product-level
//! fields only on a handle's first row, rows grouped by `Handle`.

use std::io::Read;

use rust_decimal::Decimal;

use super::rows::{boolean, decimal, integer, Columns, Group, Groups, Row};
use super::{CsvFileError, Skipped};

/// Columns without which the file is not a products export.
pub const REQUIRED_COLUMNS: [&str; 3] = ["Handle", "Title", "Variant SKU"];

/// One product of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedProduct {
    /// `Handle`: the only key the export has (no product ids).
    pub handle: String,
    /// `Title`.
    pub title: String,
    /// `Vendor`.
    pub vendor: String,
    /// `Type` ("" when unset).
    pub product_type: String,
    /// `Tags`, split on commas and trimmed.
    pub tags: Vec<String>,
    /// `Published` (true when the export has no such column).
    pub published: bool,
    /// `Status`, lower-cased: "active" (the default when blank), "draft" or "archived".
    pub status: String,
    /// `Gift Card`.
    pub gift_card: bool,
    /// The first `Image Src` of the product.
    pub image_src: Option<String>,
    /// Its variants in file order (bad rows left out, each reported as [`Skipped`]).
    pub variants: Vec<ImportedVariant>,
    /// File line of the product's first row.
    pub line: u64,
}

/// One variant row.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedVariant {
    /// File line of the row.
    pub line_number: u64,
    /// `Variant SKU`; may be empty.
    pub sku: String,
    /// `Variant Price`.
    pub price: Option<Decimal>,
    /// `Variant Compare At Price`.
    pub compare_at_price: Option<Decimal>,
    /// `Variant Inventory Qty` (absent from newer exports, which list stock per location).
    pub inventory_qty: Option<i64>,
    /// `Variant Inventory Policy`: "deny" (the default) or "continue" (sell when out of stock).
    pub inventory_policy: String,
    /// `Variant Inventory Tracker`: "shopify" when Shopify tracks stock, `None` when nobody does.
    pub inventory_tracker: Option<String>,
    /// `Option1 Value` .. `Option3 Value`.
    pub option1: Option<String>,
    /// `Option2 Value`.
    pub option2: Option<String>,
    /// `Option3 Value`.
    pub option3: Option<String>,
}

impl ImportedVariant {
    /// The variant's part of an orders export's `Lineitem name` ("Red / L"); `None` for the
    /// single "Default Title" variant, whose line items carry the bare product title.
    pub fn title(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.option1, &self.option2, &self.option3]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        match parts.as_slice() {
            [] | ["Default Title"] => None,
            _ => Some(parts.join(" / ")),
        }
    }
}

struct Cols {
    title: Option<usize>,
    vendor: Option<usize>,
    product_type: Option<usize>,
    tags: Option<usize>,
    published: Option<usize>,
    status: Option<usize>,
    gift_card: Option<usize>,
    image_src: Option<usize>,
    sku: Option<usize>,
    price: Option<usize>,
    compare_at: Option<usize>,
    inventory_qty: Option<usize>,
    inventory_policy: Option<usize>,
    inventory_tracker: Option<usize>,
    options: [Option<usize>; 3],
}

impl Cols {
    fn new(c: &Columns) -> Self {
        Self {
            title: c.find(&["Title"]),
            vendor: c.find(&["Vendor"]),
            product_type: c.find(&["Type"]),
            tags: c.find(&["Tags"]),
            published: c.find(&["Published", "Published on online store"]),
            status: c.find(&["Status"]),
            gift_card: c.find(&["Gift Card"]),
            image_src: c.find(&["Image Src"]),
            sku: c.find(&["Variant SKU"]),
            price: c.find(&["Variant Price"]),
            compare_at: c.find(&["Variant Compare At Price"]),
            inventory_qty: c.find(&["Variant Inventory Qty", "Inventory quantity"]),
            inventory_policy: c.find(&["Variant Inventory Policy"]),
            inventory_tracker: c.find(&["Variant Inventory Tracker"]),
            options: [
                c.find(&["Option1 Value"]),
                c.find(&["Option2 Value"]),
                c.find(&["Option3 Value"]),
            ],
        }
    }

    /// Does the row describe a variant (rather than only an extra image)?
    fn is_variant_row(&self, row: &Row) -> bool {
        [self.sku, self.price, self.compare_at, self.inventory_qty]
            .into_iter()
            .chain(self.options)
            .any(|c| !row.get(c).is_empty())
    }
}

/// Streams the products of an export, in file order. Each item is a product or a skipped row
/// (or a whole skipped product, reported at its first row's line).
pub struct ProductsReader<R> {
    groups: Groups<R>,
    cols: Cols,
    pending: Vec<Result<ImportedProduct, Skipped>>,
}

impl<R: Read> ProductsReader<R> {
    /// Reads the header; fails when a column of [`REQUIRED_COLUMNS`] is missing.
    pub fn new(input: R) -> Result<Self, CsvFileError> {
        let (groups, columns) = Groups::open(input, "products", "Handle", &REQUIRED_COLUMNS)?;
        Ok(Self {
            groups,
            cols: Cols::new(&columns),
            pending: Vec::new(),
        })
    }

    fn convert(&self, g: Group) -> Vec<Result<ImportedProduct, Skipped>> {
        let first_line = g.rows.first().map_or(0, |r| r.line);
        if g.repeated {
            let reason = Skipped {
                line: first_line,
                reason: format!(
                    "product {} appears again, apart from its earlier rows (an export keeps a \
                     product's rows together; is this a second export pasted in?)",
                    g.key
                ),
            };
            return g.into_stack(None, vec![reason]);
        }
        let mut product = match self.product_fields(&g.key, &g.rows[0]) {
            Ok(p) => p,
            Err(reason) => {
                let reason = Skipped {
                    line: first_line,
                    reason: format!("product {}: {reason}", g.key),
                };
                return g.into_stack(None, vec![reason]);
            }
        };
        let mut skipped = Vec::new();
        for row in &g.rows {
            if product.image_src.is_none() {
                product.image_src = row.opt(self.cols.image_src);
            }
            if !self.cols.is_variant_row(row) {
                continue;
            }
            match self.variant_fields(row) {
                Ok(v) => product.variants.push(v),
                Err(reason) => skipped.push(Skipped {
                    line: row.line,
                    reason: format!("variant of product {}: {reason}", g.key),
                }),
            }
        }
        g.into_stack(Some(product), skipped)
    }

    fn product_fields(&self, handle: &str, row: &Row) -> Result<ImportedProduct, String> {
        let c = &self.cols;
        let title = row.get(c.title);
        if title.is_empty() {
            return Err("\"Title\" is empty on the product's first row".to_owned());
        }
        let published = match c.published {
            None => true,
            Some(_) => boolean(row, c.published, "Published")?.unwrap_or(false),
        };
        let status = Some(row.get(c.status).to_lowercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "active".to_owned());
        let tags = row
            .get(c.tags)
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(ImportedProduct {
            handle: handle.to_owned(),
            title: title.to_owned(),
            vendor: row.get(c.vendor).to_owned(),
            product_type: row.get(c.product_type).to_owned(),
            tags,
            published,
            status,
            gift_card: boolean(row, c.gift_card, "Gift Card")?.unwrap_or(false),
            image_src: None,
            variants: Vec::new(),
            line: row.line,
        })
    }

    fn variant_fields(&self, row: &Row) -> Result<ImportedVariant, String> {
        let c = &self.cols;
        let policy = row.get(c.inventory_policy).to_lowercase();
        Ok(ImportedVariant {
            line_number: row.line,
            sku: row.get(c.sku).to_owned(),
            price: decimal(row, c.price, "Variant Price")?,
            compare_at_price: decimal(row, c.compare_at, "Variant Compare At Price")?,
            inventory_qty: integer(row, c.inventory_qty, "Variant Inventory Qty")?,
            inventory_policy: if policy.is_empty() {
                "deny".to_owned()
            } else {
                policy
            },
            inventory_tracker: row.opt(c.inventory_tracker),
            option1: row.opt(c.options[0]),
            option2: row.opt(c.options[1]),
            option3: row.opt(c.options[2]),
        })
    }
}

impl<R: Read> Iterator for ProductsReader<R> {
    type Item = Result<ImportedProduct, Skipped>;

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
