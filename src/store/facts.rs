//! Loading the engine's inputs from the store. The same functions serve a full rebuild (all
//! ids) and the incremental refresh after each applied batch (the ids it touched), so the
//! model is always exactly what replaying the tables gives.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use sqlx::PgPool;

use super::ShopId;
use crate::engine::{BrowseFacts, BrowseKind, OrderFacts, ProductFacts, Rules};

/// A product's engine facts, or its deletion time when it was deleted.
pub enum ProductState {
    Live(ProductFacts),
    Deleted { product_id: i64, at: i64 },
}

/// Products (all of the shop's, or only `ids`). Recommendable = active, published on the
/// Online Store, not deleted, and some variant can be bought (SHOPIFY.md §2.3).
pub async fn products(
    pool: &PgPool,
    shop: ShopId,
    ids: Option<&[i64]>,
) -> sqlx::Result<Vec<ProductState>> {
    let rows = sqlx::query!(
        r#"select p.product_id, p.title, p.product_type, p.vendor, p.tags, p.deleted,
                  extract(epoch from p.updated_at)::int8 as "updated_at!",
                  (p.status = 'active' and p.published_at is not null and not p.deleted and not p.gift_card
                   and exists (select 1 from variant v
                                where v.shop_id = p.shop_id and v.product_id = p.product_id
                                  and (v.inventory_policy = 'continue' or v.inventory_management is null
                                       or coalesce(v.inventory_quantity, 0) > 0))) as "recommendable!"
             from product p
            where p.shop_id = $1 and ($2::int8[] is null or p.product_id = any($2))"#,
        shop.0,
        ids as Option<&[i64]>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            if r.deleted {
                ProductState::Deleted {
                    product_id: r.product_id,
                    at: r.updated_at,
                }
            } else {
                ProductState::Live(ProductFacts {
                    id: r.product_id,
                    title: r.title,
                    product_type: r.product_type,
                    vendor: r.vendor,
                    tags: r.tags,
                    recommendable: r.recommendable,
                    updated_at: r.updated_at,
                })
            }
        })
        .collect())
}

/// Orders with their net lines per product. Cancelled and test orders do not count; gift cards,
/// custom lines (no product) and fully refunded lines are left out.
pub async fn orders(
    pool: &PgPool,
    shop: ShopId,
    ids: Option<&[i64]>,
    mut each: impl FnMut(OrderFacts),
) -> sqlx::Result<()> {
    let mut rows = sqlx::query!(
        r#"select o.order_id, o.customer_id,
                  extract(epoch from coalesce(o.processed_at, o.created_at))::int8 as "at!",
                  extract(epoch from o.updated_at)::int8 as "updated_at!",
                  (not o.test and o.cancelled_at is null) as "counts!",
                  coalesce(array_agg(l.product_id order by l.product_id)
                           filter (where l.product_id is not null), '{}') as "products!: Vec<i64>",
                  coalesce(array_agg(l.qty order by l.product_id)
                           filter (where l.product_id is not null), '{}') as "quantities!: Vec<i64>"
             from "order" o
             left join (select order_id, product_id, sum(net_quantity)::int8 as qty
                          from order_line_net
                         where shop_id = $1 and not gift_card and product_id is not null
                           and not exists (select 1 from product p where p.shop_id = $1
                                             and p.product_id = order_line_net.product_id and p.gift_card)
                           and ($2::int8[] is null or order_id = any($2))
                         group by order_id, product_id
                        having sum(net_quantity) > 0) l on l.order_id = o.order_id
            where o.shop_id = $1 and ($2::int8[] is null or o.order_id = any($2))
            group by o.shop_id, o.order_id"#,
        shop.0,
        ids as Option<&[i64]>
    )
    .fetch(pool);
    while let Some(r) = rows.try_next().await? {
        let lines = r
            .products
            .into_iter()
            .zip(r.quantities)
            .map(|(p, q)| (p, u32::try_from(q).unwrap_or(u32::MAX)))
            .collect();
        each(OrderFacts {
            order_id: r.order_id,
            customer_id: r.customer_id,
            at: r.at,
            updated_at: r.updated_at,
            counts: r.counts,
            lines,
        });
    }
    Ok(())
}

/// Browse events that say something about products, oldest first.
pub async fn browse(
    pool: &PgPool,
    shop: ShopId,
    mut each: impl FnMut(BrowseFacts),
) -> sqlx::Result<()> {
    let mut rows = sqlx::query!(
        r#"select name, client_id, customer_id, product_id as "product_id!",
                  extract(epoch from occurred_at)::int8 as "at!"
             from browse_event
            where shop_id = $1 and product_id is not null
            order by occurred_at, event_id"#,
        shop.0
    )
    .fetch(pool);
    while let Some(r) = rows.try_next().await? {
        if let Some(kind) = browse_kind(&r.name) {
            each(BrowseFacts {
                client_id: r.client_id,
                customer_id: r.customer_id,
                product_id: r.product_id,
                kind,
                at: r.at,
            });
        }
    }
    Ok(())
}

/// These browse events (by pixel event id), oldest first; ids no longer stored are skipped.
pub async fn browse_events(
    pool: &PgPool,
    shop: ShopId,
    event_ids: &[String],
) -> sqlx::Result<Vec<BrowseFacts>> {
    let rows = sqlx::query!(
        r#"select name, client_id, customer_id, product_id as "product_id!",
                  extract(epoch from occurred_at)::int8 as "at!"
             from browse_event
            where shop_id = $1 and event_id = any($2) and product_id is not null
            order by occurred_at, event_id"#,
        shop.0,
        event_ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(BrowseFacts {
                kind: browse_kind(&r.name)?,
                client_id: r.client_id,
                customer_id: r.customer_id,
                product_id: r.product_id,
                at: r.at,
            })
        })
        .collect())
}

/// The engine's view of a pixel event name.
pub fn browse_kind(name: &str) -> Option<BrowseKind> {
    match name {
        "product_viewed" => Some(BrowseKind::View),
        "product_added_to_cart" => Some(BrowseKind::AddToCart),
        "product_removed_from_cart" => Some(BrowseKind::RemoveFromCart),
        "checkout_started" => Some(BrowseKind::CheckoutStarted),
        _ => None,
    }
}

/// The shop's merchant rules, in the engine's shape.
pub async fn rules(pool: &PgPool, shop: ShopId) -> sqlx::Result<Rules> {
    let rows = super::rules::list(pool, shop).await?;
    let mut rules = Rules::default();
    let mut pins_for: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut excludes_for: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in rows {
        match (r.kind.as_str(), r.context_product_id) {
            ("pin", None) => rules.global_pins.push(r.product_id),
            ("exclude", None) => rules.global_excludes.push(r.product_id),
            ("pin", Some(ctx)) => pins_for.entry(ctx).or_default().push(r.product_id),
            (_, Some(ctx)) => excludes_for.entry(ctx).or_default().push(r.product_id),
            _ => {}
        }
    }
    rules.pins_for = pins_for;
    rules.excludes_for = excludes_for;
    Ok(rules)
}
