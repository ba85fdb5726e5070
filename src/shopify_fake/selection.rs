//! Just enough GraphQL reading for the fake: the root fields of an operation (with aliases, so
//! a client may batch several mutations in one request) and their arguments, resolved from
//! variables or literals.

use serde_json::{Map, Value};

/// One root field: `alias: name(args) { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RootField {
    /// The key of its result in `data` (the alias, else the name).
    pub key: String,
    pub name: String,
    pub args: Map<String, Value>,
}

/// The root fields of `query`, arguments resolved against `variables`.
pub fn root_fields(query: &str, variables: &Value) -> Result<Vec<RootField>, String> {
    let start = query.find('{').ok_or("no selection set")? + 1;
    let mut p = Parser {
        s: query.as_bytes(),
        i: start,
        variables,
    };
    let mut fields = Vec::new();
    loop {
        p.skip_ws();
        match p.peek() {
            None => return Err("unbalanced braces".into()),
            Some(b'}') => return Ok(fields),
            Some(_) => {}
        }
        let first = p.ident()?;
        p.skip_ws();
        let (key, name) = if p.peek() == Some(b':') {
            p.i += 1;
            p.skip_ws();
            (first, p.ident()?)
        } else {
            (first.clone(), first)
        };
        p.skip_ws();
        let args = if p.peek() == Some(b'(') {
            p.arguments()?
        } else {
            Map::new()
        };
        p.skip_ws();
        if p.peek() == Some(b'{') {
            p.skip_block()?;
        }
        fields.push(RootField { key, name, args });
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    variables: &'a Value,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || c == b',' {
                self.i += 1;
            } else if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("expected a name at byte {start}"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn arguments(&mut self) -> Result<Map<String, Value>, String> {
        self.i += 1; // (
        let mut args = Map::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b')') {
                self.i += 1;
                return Ok(args);
            }
            let name = self.ident()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(format!("expected `:` after argument {name}"));
            }
            self.i += 1;
            self.skip_ws();
            let value = self.value()?;
            args.insert(name, value);
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'$') => {
                self.i += 1;
                let name = self.ident()?;
                Ok(self.variables.get(&name).cloned().unwrap_or(Value::Null))
            }
            Some(b'"') => self.string(),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    items.push(self.value()?);
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut object = Map::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Value::Object(object));
                    }
                    let key = self.ident()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(format!("expected `:` after field {key}"));
                    }
                    self.i += 1;
                    self.skip_ws();
                    object.insert(key, self.value()?);
                }
            }
            Some(_) => {
                let word = self.ident_or_number()?;
                Ok(match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => word
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map_or(Value::String(word), Value::Number),
                })
            }
            None => Err("unexpected end in arguments".into()),
        }
    }

    fn ident_or_number(&mut self) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("unexpected character at byte {start}"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn string(&mut self) -> Result<Value, String> {
        if self.s[self.i..].starts_with(b"\"\"\"") {
            let body_start = self.i + 3;
            let len = self.s[body_start..]
                .windows(3)
                .position(|w| w == b"\"\"\"")
                .ok_or("unterminated block string")?;
            self.i = body_start + len + 3;
            return Ok(Value::String(
                String::from_utf8_lossy(&self.s[body_start..body_start + len]).into_owned(),
            ));
        }
        let start = self.i;
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => {
                    let raw = String::from_utf8_lossy(&self.s[start..self.i]);
                    return serde_json::from_str(&raw).map_err(|e| e.to_string());
                }
                _ => {}
            }
        }
        Err("unterminated string".into())
    }

    fn skip_block(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                b'"' => {
                    self.i -= 1;
                    self.string()?;
                }
                _ => {}
            }
        }
        Err("unbalanced braces".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_query_has_one_root_field() {
        let fields = root_fields("query { shop { id name } }", &json!({})).expect("parses");
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].name, "shop");
        assert_eq!(fields[0].key, "shop");
    }

    #[test]
    fn aliased_mutations_batch_with_their_own_variables() {
        let query = "mutation Batch($a: ID!, $at: [String!]!, $b: ID!) {
            a1: tagsAdd(id: $a, tags: $at) { node { id } userErrors { field message } }
            b1: tagsRemove(id: $b, tags: [\"shoprecs:new\"]) { userErrors { message } }
        }";
        let vars = json!({"a": "gid://shopify/Customer/1", "at": ["shoprecs:vip"], "b": "gid://shopify/Customer/2"});
        let fields = root_fields(query, &vars).expect("parses");
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].key, "a1");
        assert_eq!(fields[0].name, "tagsAdd");
        assert_eq!(fields[0].args["tags"], json!(["shoprecs:vip"]));
        assert_eq!(fields[1].args["id"], json!("gid://shopify/Customer/2"));
        assert_eq!(fields[1].args["tags"], json!(["shoprecs:new"]));
    }

    #[test]
    fn block_strings_and_objects_are_arguments_too() {
        let query = r#"mutation { bulkOperationRunQuery(query: """{ orders(query: "created_at:>=2024-01-01") { edges { node { id } } } }""") { bulkOperation { id } } }"#;
        let fields = root_fields(query, &json!({})).expect("parses");
        assert_eq!(fields[0].name, "bulkOperationRunQuery");
        assert!(fields[0].args["query"]
            .as_str()
            .expect("string")
            .contains("orders(query:"));
        let fields = root_fields(
            "mutation { webPixelCreate(webPixel: {settings: $s}) { webPixel { id } } }",
            &json!({"s": "{\"accountID\":\"1\"}"}),
        )
        .expect("parses");
        assert_eq!(
            fields[0].args["webPixel"]["settings"],
            json!("{\"accountID\":\"1\"}")
        );
    }
}
