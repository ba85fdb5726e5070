//! The catalog: dense product indices, product facts, type and tag groups.

use std::collections::BTreeSet;

use super::hash::{fingerprint, map_bytes, FxMap};
use super::types::{ProductFacts, ProductId, Ts};

/// Dense internal product index. Half the size of a Shopify id, and it indexes plain vectors.
pub(crate) type Idx = u32;

/// A popularity group: the whole shop, one product type, or one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Group {
    Global,
    Type(u32),
    Tag(u32),
}

/// Which version of a product the catalog holds. Removal wins a tie with an update, and the
/// fingerprint breaks remaining ties, so the result does not depend on delivery order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    at: Ts,
    deleted: bool,
    fp: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ProductMeta {
    pub(crate) title: String,
    pub(crate) product_type: u32,
    pub(crate) tags: Vec<u32>,
    version: Option<Version>,
}

/// String interner; id 0 is the empty string (no type).
#[derive(Debug)]
pub(crate) struct Interner {
    names: Vec<String>,
    index: FxMap<String, u32>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut index = FxMap::default();
        index.insert(String::new(), 0);
        Self {
            names: vec![String::new()],
            index,
        }
    }
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.index.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.index.insert(s.to_owned(), id);
        id
    }

    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }

    fn bytes(&self) -> usize {
        map_bytes(&self.index)
            + self
                .names
                .iter()
                .map(|n| 2 * n.capacity() + 48)
                .sum::<usize>()
    }
}

/// Tags group case-insensitively: merchants type "Vegan" and "vegan" for the same thing.
pub(crate) fn normalise_tag(t: &str) -> String {
    t.trim().to_lowercase()
}

#[derive(Debug, Default)]
pub(crate) struct Catalog {
    index: FxMap<ProductId, Idx>,
    ids: Vec<ProductId>,
    meta: Vec<ProductMeta>,
    recommendable: Vec<bool>,
    /// Recommendable ids, newest (highest Shopify id) last, for the last-resort fill.
    live: BTreeSet<ProductId>,
    pub(crate) types: Interner,
    pub(crate) tags: Interner,
    type_members: Vec<Vec<Idx>>,
    tag_members: Vec<Vec<Idx>>,
}

impl Catalog {
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn lookup(&self, id: ProductId) -> Option<Idx> {
        self.index.get(&id).copied()
    }

    /// Index of a product, creating an unrecommendable placeholder for products that orders
    /// mention before the catalog sync has delivered them.
    pub(crate) fn intern(&mut self, id: ProductId) -> Idx {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.ids.len() as Idx;
        self.ids.push(id);
        self.meta.push(ProductMeta::default());
        self.recommendable.push(false);
        self.index.insert(id, i);
        i
    }

    pub(crate) fn id(&self, idx: Idx) -> ProductId {
        self.ids[idx as usize]
    }

    pub(crate) fn meta(&self, idx: Idx) -> &ProductMeta {
        &self.meta[idx as usize]
    }

    pub(crate) fn is_recommendable(&self, idx: Idx) -> bool {
        self.recommendable[idx as usize]
    }

    pub(crate) fn recommendable_count(&self) -> usize {
        self.live.len()
    }

    /// Title for reason texts; placeholders have none yet.
    pub(crate) fn title(&self, idx: Idx) -> String {
        let t = &self.meta[idx as usize].title;
        if t.is_empty() {
            "this product".to_owned()
        } else {
            t.clone()
        }
    }

    /// Groups a product belongs to.
    pub(crate) fn groups(&self, idx: Idx) -> Vec<Group> {
        self.groups_of(idx).collect()
    }

    /// The same without allocating: global, then its type (if any), then its tags.
    pub(crate) fn groups_of(&self, idx: Idx) -> impl Iterator<Item = Group> + '_ {
        let m = &self.meta[idx as usize];
        let ty = (m.product_type != 0).then_some(Group::Type(m.product_type));
        std::iter::once(Group::Global)
            .chain(ty)
            .chain(m.tags.iter().map(|&t| Group::Tag(t)))
    }

    /// Every group that has members.
    pub(crate) fn all_groups(&self) -> Vec<Group> {
        let mut g = vec![Group::Global];
        g.extend(
            (0..self.type_members.len())
                .filter(|&t| t != 0 && !self.type_members[t].is_empty())
                .map(|t| Group::Type(t as u32)),
        );
        g.extend(
            (0..self.tag_members.len())
                .filter(|&t| !self.tag_members[t].is_empty())
                .map(|t| Group::Tag(t as u32)),
        );
        g
    }

    /// Calls `f` for every member of a group.
    pub(crate) fn for_each_member(&self, group: Group, mut f: impl FnMut(Idx)) {
        let members = match group {
            Group::Global => {
                (0..self.ids.len() as Idx).for_each(f);
                return;
            }
            Group::Type(t) => self.type_members.get(t as usize),
            Group::Tag(t) => self.tag_members.get(t as usize),
        };
        for &i in members.into_iter().flatten() {
            f(i);
        }
    }

    /// Applies a product version if it is newer. Returns the product's groups before and after
    /// when the version was applied.
    pub(crate) fn upsert(&mut self, p: ProductFacts) -> Option<(Idx, Vec<Group>, Vec<Group>)> {
        let mut tags: Vec<String> = p.tags.iter().map(|t| normalise_tag(t)).collect();
        tags.retain(|t| !t.is_empty());
        tags.sort();
        tags.dedup();
        let fp = fingerprint(&(&p.title, &p.product_type, &p.vendor, &tags, p.recommendable));
        let version = Version {
            at: p.updated_at,
            deleted: false,
            fp,
        };
        let idx = self.intern(p.id);
        if self.meta[idx as usize]
            .version
            .is_some_and(|v| v >= version)
        {
            return None;
        }
        let before = self.groups(idx);
        self.set_membership(idx, false);
        let type_id = self.types.intern(p.product_type.trim());
        let tag_ids: Vec<u32> = tags.iter().map(|t| self.tags.intern(t)).collect();
        let m = &mut self.meta[idx as usize];
        m.title = p.title;
        m.product_type = type_id;
        m.tags = tag_ids;
        m.version = Some(version);
        self.set_membership(idx, true);
        self.set_recommendable(idx, p.recommendable);
        Some((idx, before, self.groups(idx)))
    }

    /// Marks a product deleted at `at` (it stays known: past orders still mention it). Its
    /// facts are cleared, so the state is the same whether an older update arrived before or
    /// after the deletion. Returns its groups before and after, like `upsert`.
    pub(crate) fn remove(
        &mut self,
        id: ProductId,
        at: Ts,
    ) -> Option<(Idx, Vec<Group>, Vec<Group>)> {
        let version = Version {
            at,
            deleted: true,
            fp: 0,
        };
        let idx = self.intern(id);
        if self.meta[idx as usize]
            .version
            .is_some_and(|v| v >= version)
        {
            return None;
        }
        let before = self.groups(idx);
        self.set_membership(idx, false);
        self.meta[idx as usize] = ProductMeta {
            version: Some(version),
            ..ProductMeta::default()
        };
        self.set_recommendable(idx, false);
        Some((idx, before, self.groups(idx)))
    }

    fn set_recommendable(&mut self, idx: Idx, on: bool) {
        self.recommendable[idx as usize] = on;
        let id = self.ids[idx as usize];
        if on {
            self.live.insert(id);
        } else {
            self.live.remove(&id);
        }
    }

    fn set_membership(&mut self, idx: Idx, add: bool) {
        let m = &self.meta[idx as usize];
        let (ty, tags) = (m.product_type, m.tags.clone());
        if ty != 0 {
            edit_members(&mut self.type_members, ty, idx, add);
        }
        for t in tags {
            edit_members(&mut self.tag_members, t, idx, add);
        }
    }

    /// Recommendable product ids, highest (newest) first: the last-resort shelf filler.
    pub(crate) fn live_newest_first(&self) -> impl Iterator<Item = ProductId> + '_ {
        self.live.iter().rev().copied()
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        let meta: usize = self
            .meta
            .iter()
            .map(|m| {
                std::mem::size_of::<ProductMeta>() + m.title.capacity() + 4 * m.tags.capacity()
            })
            .sum();
        let members: usize = self
            .type_members
            .iter()
            .chain(&self.tag_members)
            .map(|v| 24 + 4 * v.capacity())
            .sum();
        map_bytes(&self.index)
            + 8 * self.ids.capacity()
            + self.recommendable.capacity()
            + meta
            + members
            + self.live.len() * 16
            + self.types.bytes()
            + self.tags.bytes()
    }
}

fn edit_members(lists: &mut Vec<Vec<Idx>>, group: u32, idx: Idx, add: bool) {
    let g = group as usize;
    if lists.len() <= g {
        lists.resize_with(g + 1, Vec::new);
    }
    let v = &mut lists[g];
    if add {
        v.push(idx);
    } else if let Some(pos) = v.iter().position(|&x| x == idx) {
        v.swap_remove(pos);
    }
}
