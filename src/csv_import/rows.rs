//! What both exports share: header lookup, grouping consecutive rows by a key column, and
//! field parsers that say what was wrong.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use csv::StringRecord;
use rust_decimal::Decimal;

use super::{CsvFileError, Skipped};

/// Header name → column index, for the columns one parser reads.
pub(crate) struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn new(header: &StringRecord) -> Self {
        let names = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
            .collect();
        Self { names }
    }

    /// Index of the first column with this name (any of the aliases, in order).
    pub(crate) fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases.iter().find_map(|a| {
            let a = a.to_lowercase();
            self.names.iter().position(|n| *n == a)
        })
    }
}

/// One row of the file with the line it starts on.
pub(crate) struct Row {
    pub(crate) line: u64,
    pub(crate) record: StringRecord,
}

impl Row {
    /// The trimmed field, "" when the column is absent or the row is short.
    pub(crate) fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|c| self.record.get(c)).map_or("", str::trim)
    }

    /// The trimmed field, `None` when blank.
    pub(crate) fn opt(&self, col: Option<usize>) -> Option<String> {
        let v = self.get(col);
        (!v.is_empty()).then(|| v.to_owned())
    }
}

/// Consecutive rows sharing a key (an order's `Name`, a product's `Handle`).
pub(crate) struct Group {
    pub(crate) key: String,
    pub(crate) rows: Vec<Row>,
    /// The key was already seen earlier in the file, not next to these rows.
    pub(crate) repeated: bool,
    /// Unreadable rows met while this group was open, so they come out in file order.
    pub(crate) unreadable: Vec<Skipped>,
}

impl Group {
    /// The group's skipped rows (unreadable ones plus `more`) sorted by line, followed by
    /// `item`, reversed so that popping yields file order.
    pub(crate) fn into_stack<T>(
        self,
        item: Option<T>,
        more: Vec<Skipped>,
    ) -> Vec<Result<T, Skipped>> {
        let mut skipped = self.unreadable;
        skipped.extend(more);
        skipped.sort_by_key(|s| s.line);
        let mut out: Vec<Result<T, Skipped>> = skipped.into_iter().map(Err).collect();
        out.extend(item.map(Ok));
        out.reverse();
        out
    }
}

/// Streams groups of rows; unreadable rows come out as [`Skipped`] in file order.
pub(crate) struct Groups<R> {
    reader: csv::Reader<R>,
    key: usize,
    key_name: &'static str,
    width: usize,
    current: Option<Group>,
    /// Hashes of finished keys (8 bytes each, not the keys themselves).
    seen: HashSet<u64>,
    queue: VecDeque<Result<Group, Skipped>>,
    done: bool,
}

fn key_hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

impl<R: Read> Groups<R> {
    /// Reads the header and checks the required columns are there.
    pub(crate) fn open(
        input: R,
        export: &'static str,
        key: &'static str,
        required: &[&'static str],
    ) -> Result<(Self, Columns), CsvFileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(input);
        let header = reader.headers().map_err(CsvFileError::Header)?.clone();
        let columns = Columns::new(&header);
        let missing: Vec<&'static str> = required
            .iter()
            .copied()
            .filter(|r| columns.find(&[r]).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(CsvFileError::MissingColumns { export, missing });
        }
        let key_col = columns.find(&[key]).unwrap_or(0);
        let groups = Self {
            reader,
            key: key_col,
            key_name: key,
            width: header.len(),
            current: None,
            seen: HashSet::new(),
            queue: VecDeque::new(),
            done: false,
        };
        Ok((groups, columns))
    }

    fn finish_current(&mut self) {
        if let Some(g) = self.current.take() {
            self.seen.insert(key_hash(&g.key));
            self.queue.push_back(Ok(g));
        }
    }

    /// Reports a row that cannot belong to any group, in file order.
    fn skip(&mut self, s: Skipped) {
        match &mut self.current {
            Some(g) => g.unreadable.push(s),
            None => self.queue.push_back(Err(s)),
        }
    }

    /// Reads one record into the current group (or starts a new one).
    fn read_one(&mut self) {
        let mut record = StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(false) => {
                self.finish_current();
                self.done = true;
            }
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                if record.len() != self.width {
                    self.skip(Skipped {
                        line,
                        reason: format!(
                            "the row has {} fields but the header has {}",
                            record.len(),
                            self.width
                        ),
                    });
                    return;
                }
                let key = record.get(self.key).map_or("", str::trim).to_owned();
                if key.is_empty() {
                    self.skip(Skipped {
                        line,
                        reason: format!("\"{}\" is empty", self.key_name),
                    });
                    return;
                }
                let row = Row { line, record };
                match &mut self.current {
                    Some(g) if g.key == key => g.rows.push(row),
                    _ => {
                        self.finish_current();
                        let repeated = self.seen.contains(&key_hash(&key));
                        self.current = Some(Group {
                            key,
                            rows: vec![row],
                            repeated,
                            unreadable: Vec::new(),
                        });
                    }
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                let reason = if fatal {
                    format!("reading stopped here: {e}")
                } else {
                    format!("unreadable row: {e}")
                };
                self.skip(Skipped { line, reason });
                if fatal {
                    self.finish_current();
                    self.done = true;
                }
            }
        }
    }
}

impl<R: Read> Iterator for Groups<R> {
    type Item = Result<Group, Skipped>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.read_one();
        }
    }
}

/// A field's value could not be parsed; the message names the column and the value.
pub(crate) fn bad(column: &str, value: &str, expected: &str) -> String {
    let shown: String = value.chars().take(40).collect();
    format!("\"{column}\" is \"{shown}\", expected {expected}")
}

/// Money like `12.50`; blank → `None`.
pub(crate) fn decimal(
    row: &Row,
    col: Option<usize>,
    name: &str,
) -> Result<Option<Decimal>, String> {
    let v = row.get(col);
    if v.is_empty() {
        return Ok(None);
    }
    Decimal::from_str(v)
        .or_else(|_| Decimal::from_scientific(v))
        .map(Some)
        .map_err(|_| bad(name, v, "a number like 12.50"))
}

/// An integer; blank → `None`.
pub(crate) fn integer<T: FromStr>(
    row: &Row,
    col: Option<usize>,
    name: &str,
) -> Result<Option<T>, String> {
    let v = row.get(col);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<T>()
        .map(Some)
        .map_err(|_| bad(name, v, "a whole number"))
}

/// Shopify's `2025-10-07 09:50:26 +0200` (also RFC 3339, and a bare `2025-10-07 09:50:26`
/// read as UTC); blank → `None`.
pub(crate) fn timestamp(
    row: &Row,
    col: Option<usize>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, String> {
    let v = row.get(col);
    if v.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S %z")
        .or_else(|_| DateTime::parse_from_rfc3339(v))
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .map(Some)
        .map_err(|_| bad(name, v, "a time like 2025-10-07 09:50:26 +0200"))
}

/// `TRUE` / `FALSE` (any case); blank → `None`.
pub(crate) fn boolean(row: &Row, col: Option<usize>, name: &str) -> Result<Option<bool>, String> {
    let v = row.get(col);
    match v.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "1" => Ok(Some(true)),
        "false" | "no" | "0" => Ok(Some(false)),
        _ => Err(bad(name, v, "TRUE or FALSE")),
    }
}
