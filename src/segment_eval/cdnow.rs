//! Reading the CDNOW purchase log (`CDNOW_master.txt` in the `lifetimes` PyPI package).
//!
//! One purchase per line, whitespace-separated: customer id, date `YYYYMMDD`, quantity,
//! amount. An optional header line (`customer_id date …`) and blank lines are skipped, CRLF
//! endings are fine. Several lines for the same customer and day are one order: the shop
//! cannot tell them apart by time, and segments count orders as purchase days.

use std::collections::BTreeMap;
use std::io::BufRead;

use chrono::NaiveDate;

/// A line that is not a purchase.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// One customer's orders on one day (lines summed).
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub day: NaiveDate,
    pub quantity: u32,
    pub amount: f64,
}

/// A customer and their orders, oldest first, at most one per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: u64,
    pub orders: Vec<Order>,
}

/// The whole log, customers by id.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseLog {
    pub customers: Vec<Customer>,
    /// Purchase lines read (before merging same-day lines).
    pub lines: usize,
}

impl PurchaseLog {
    /// Orders (customer-days) in the log.
    pub fn orders(&self) -> usize {
        self.customers.iter().map(|c| c.orders.len()).sum()
    }
}

/// Reads the log; the first bad line stops it with its line number.
pub fn parse(reader: impl BufRead) -> Result<PurchaseLog, ParseError> {
    let mut by_customer: BTreeMap<u64, BTreeMap<NaiveDate, (u32, f64)>> = BTreeMap::new();
    let mut lines = 0usize;
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| ParseError {
            line: n,
            reason: format!("unreadable: {e}"),
        })?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() || (n == 1 && fields[0] == "customer_id") {
            continue;
        }
        let (customer, day, quantity, amount) =
            parse_fields(&fields).map_err(|reason| ParseError { line: n, reason })?;
        let entry = by_customer
            .entry(customer)
            .or_default()
            .entry(day)
            .or_default();
        entry.0 = entry.0.saturating_add(quantity);
        entry.1 += amount;
        lines += 1;
    }
    let customers = by_customer
        .into_iter()
        .map(|(id, days)| Customer {
            id,
            orders: days
                .into_iter()
                .map(|(day, (quantity, amount))| Order {
                    day,
                    quantity,
                    amount,
                })
                .collect(),
        })
        .collect();
    Ok(PurchaseLog { customers, lines })
}

fn parse_fields(fields: &[&str]) -> Result<(u64, NaiveDate, u32, f64), String> {
    let [customer, date, quantity, amount] = fields else {
        return Err(format!(
            "expected 4 fields (customer id, date YYYYMMDD, quantity, amount), found {}",
            fields.len()
        ));
    };
    let customer = customer
        .parse::<u64>()
        .map_err(|_| format!("customer id {customer:?} is not a whole number"))?;
    let day = parse_day(date).ok_or_else(|| format!("date {date:?} is not a YYYYMMDD date"))?;
    let quantity = quantity
        .parse::<u32>()
        .map_err(|_| format!("quantity {quantity:?} is not a whole number"))?;
    let amount = amount
        .parse::<f64>()
        .ok()
        .filter(|a| a.is_finite())
        .ok_or_else(|| format!("amount {amount:?} is not a number"))?;
    Ok((customer, day, quantity, amount))
}

/// `YYYYMMDD`, exactly eight digits.
fn parse_day(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = s[..4].parse().ok()?;
    let month = s[4..6].parse().ok()?;
    let day = s[6..].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}
