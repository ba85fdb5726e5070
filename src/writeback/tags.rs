//! Segment tags: which tags a customer should carry in Shopify, what to add and remove to get
//! there, and the batched mutation that does it. Pure.

use serde_json::{json, Map, Value};

/// The segments that get a tag, with the tag's suffix (prospects, who never ordered, get none).
const SEGMENT_TAGS: [(&str, &str); 4] = [
    ("new", "new"),
    ("returning", "returning"),
    ("at_risk", "at-risk"),
    ("lapsed", "lapsed"),
];

/// The tags shoprecs sets for a segment and VIP flag.
pub fn tags_for(prefix: &str, segment: Option<&str>, vip: bool) -> Vec<String> {
    let mut tags: Vec<String> = SEGMENT_TAGS
        .iter()
        .filter(|(name, _)| Some(*name) == segment)
        .map(|(_, suffix)| format!("{prefix}{suffix}"))
        .collect();
    if vip {
        tags.push(format!("{prefix}vip"));
    }
    tags
}

/// One customer's change of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChange {
    pub customer_id: i64,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl TagChange {
    /// From the tags Shopify has (as shoprecs last set them) to the ones it should have.
    pub fn between(customer_id: i64, synced: &[String], desired: &[String]) -> Self {
        Self {
            customer_id,
            add: desired
                .iter()
                .filter(|t| !synced.contains(t))
                .cloned()
                .collect(),
            remove: synced
                .iter()
                .filter(|t| !desired.contains(t))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// One request for a batch of changes: a `tagsAdd` and/or `tagsRemove` per customer, aliased
/// `a<i>` / `r<i>` by position, each with its own variables.
pub fn mutation(changes: &[TagChange]) -> (String, Value) {
    let mut params = Vec::new();
    let mut fields = Vec::new();
    let mut vars = Map::new();
    for (i, change) in changes.iter().enumerate() {
        let gid = format!("gid://shopify/Customer/{}", change.customer_id);
        vars.insert(format!("id{i}"), json!(gid));
        params.push(format!("$id{i}: ID!"));
        for (alias, op, tags) in [
            ("a", "tagsAdd", &change.add),
            ("r", "tagsRemove", &change.remove),
        ] {
            if tags.is_empty() {
                continue;
            }
            params.push(format!("${alias}{i}: [String!]!"));
            vars.insert(format!("{alias}{i}"), json!(tags));
            fields.push(format!(
                "{alias}{i}: {op}(id: $id{i}, tags: ${alias}{i}) {{ userErrors {{ field message }} }}"
            ));
        }
    }
    let query = format!(
        "mutation SyncSegmentTags({}) {{\n  {}\n}}",
        params.join(", "),
        fields.join("\n  ")
    );
    (query, Value::Object(vars))
}

/// The user errors reported for change `i` of a batch (both of its mutations).
pub fn errors_for(data: &Value, i: usize) -> Vec<String> {
    ["a", "r"]
        .iter()
        .filter_map(|alias| data.get(format!("{alias}{i}")))
        .filter_map(|field| field.get("userErrors").and_then(Value::as_array))
        .flatten()
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_segment_but_prospect_has_a_tag_and_vip_adds_one() {
        assert_eq!(tags_for("sr:", Some("at_risk"), false), ["sr:at-risk"]);
        assert_eq!(
            tags_for("sr:", Some("returning"), true),
            ["sr:returning", "sr:vip"]
        );
        assert!(tags_for("sr:", Some("prospect"), false).is_empty());
        assert!(tags_for("sr:", None, false).is_empty());
    }

    #[test]
    fn a_change_adds_what_is_missing_and_removes_only_what_shoprecs_set() {
        let synced = tags_for("sr:", Some("new"), false);
        let desired = tags_for("sr:", Some("returning"), true);
        let change = TagChange::between(7, &synced, &desired);
        assert_eq!(change.add, ["sr:returning", "sr:vip"]);
        assert_eq!(change.remove, ["sr:new"]);
        assert!(TagChange::between(7, &desired, &desired).is_empty());
    }

    #[test]
    fn a_batch_is_one_request_with_a_mutation_per_customer_and_direction() {
        let changes = [
            TagChange::between(1, &[], &["sr:new".to_owned()]),
            TagChange::between(2, &["sr:new".to_owned()], &["sr:returning".to_owned()]),
        ];
        let (query, vars) = mutation(&changes);
        assert!(query.starts_with("mutation SyncSegmentTags($id0: ID!, $a0: [String!]!, $id1: ID!"));
        assert!(query.contains("a0: tagsAdd(id: $id0, tags: $a0)"));
        assert!(!query.contains("r0:"), "nothing to remove for customer 1");
        assert!(query.contains("r1: tagsRemove(id: $id1, tags: $r1)"));
        assert_eq!(vars["id1"], "gid://shopify/Customer/2");
        assert_eq!(vars["r1"], json!(["sr:new"]));
        assert_eq!(vars["a1"], json!(["sr:returning"]));
    }

    #[test]
    fn user_errors_are_read_per_customer() {
        let data = json!({
            "a0": {"userErrors": []},
            "a1": {"userErrors": [{"field": ["id"], "message": "Customer does not exist"}]},
            "r1": {"userErrors": []},
        });
        assert!(errors_for(&data, 0).is_empty());
        assert_eq!(errors_for(&data, 1), ["Customer does not exist"]);
    }
}
