//! Reading a bulk operation's JSONL result as it streams in: chunks arrive split anywhere, so
//! lines are cut at `\n` across chunk boundaries; each line is one object, a nested
//! connection's node carrying `"__parentId"`.

use serde_json::Value;

/// Cuts a byte stream into lines without holding more than one partial line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// The complete lines (without their `\n`) this chunk ends, each with its length in bytes
    /// including the newline.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<(Vec<u8>, usize)> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            let line = std::mem::take(&mut self.partial);
            let len = line.len() + 1;
            lines.push((line, len));
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        lines
    }

    /// A last line without a trailing newline, when the stream ended.
    pub fn finish(self) -> Option<(Vec<u8>, usize)> {
        let len = self.partial.len();
        (!self.partial.iter().all(u8::is_ascii_whitespace)).then_some((self.partial, len))
    }
}

/// One result line, ready to stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The object's GID (`gid://shopify/Order/1`), when it has one.
    pub gid: Option<String>,
    /// Its parent's GID, for a connection's node.
    pub parent: Option<String>,
    pub body: Value,
}

/// Parses one line; blank lines give `None`.
pub fn parse_line(raw: &[u8]) -> Result<Option<Line>, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let body: Value =
        serde_json::from_slice(raw).map_err(|e| format!("a result line is not JSON ({e})"))?;
    if !body.is_object() {
        return Err("a result line is not a JSON object".into());
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(Some(Line {
        gid: text("id"),
        parent: text("__parentId"),
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_across_chunks() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"{\"id\":").is_empty());
        let lines = s.push(b"1}\n{\"id\":2}\n{\"i");
        assert_eq!(
            lines,
            vec![(b"{\"id\":1}".to_vec(), 9), (b"{\"id\":2}".to_vec(), 9)]
        );
        assert_eq!(s.push(b"d\":3}"), vec![]);
        assert_eq!(s.finish(), Some((b"{\"id\":3}".to_vec(), 8)));
    }

    #[test]
    fn a_trailing_newline_leaves_nothing() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"{}\n").len(), 1);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn children_name_their_parent() {
        let line = parse_line(
            br#"{"id":"gid://shopify/LineItem/5","quantity":1,"__parentId":"gid://shopify/Order/1"}"#,
        )
        .expect("valid")
        .expect("not blank");
        assert_eq!(line.gid.as_deref(), Some("gid://shopify/LineItem/5"));
        assert_eq!(line.parent.as_deref(), Some("gid://shopify/Order/1"));
        assert_eq!(parse_line(b"  ").expect("blank is fine"), None);
        assert!(parse_line(b"[1]").is_err());
        assert!(parse_line(b"{nope").is_err());
    }
}
