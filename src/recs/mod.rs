//! The in-memory models of every installed shop, kept equal to what replaying the store gives.
//!
//! A full build and the incremental refresh after each applied webhook batch use the same
//! loaders (`store::facts`), so "rebuild" and "update" cannot drift apart. Readers take a
//! model's read lock for the microseconds a query needs; writers prepare everything from the
//! database first and hold the write lock only to apply it. Per shop, one writer at a time
//! (a rebuild makes refreshes wait rather than lose their changes).

pub mod follow;
pub mod lists;
mod touched;

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use anyhow::Context;
use sqlx::PgPool;

pub use touched::Touched;

use crate::engine::{BrowseFacts, EngineConfig, ModelStats, ShopModel};
use crate::store::catalog::{self, ProductCard};
use crate::store::facts::{self, ProductState};
use crate::store::ShopId;

struct Slot {
    model: RwLock<ShopModel>,
    /// What shelves show of each product, kept beside the model so serving a list needs no
    /// database round trip.
    cards: RwLock<Cards>,
    writer: tokio::sync::Mutex<()>,
}

/// Product cards and the shop's currency.
#[derive(Default)]
pub struct Cards {
    pub by_id: HashMap<i64, ProductCard>,
    pub currency: String,
}

/// All shops' models.
pub struct Models {
    config: EngineConfig,
    shops: RwLock<HashMap<ShopId, Arc<Slot>>>,
    /// The highest inbox id whose batch the models reflect (for readiness checks and tests).
    reflected: std::sync::atomic::AtomicI64,
    /// Bumped whenever any model or card changes: anything derived from the models (cached
    /// widgets) is valid only for the generation it was made from.
    generation: std::sync::atomic::AtomicU64,
    /// This process in the model log: rows it wrote are already applied here.
    origin: uuid::Uuid,
}

/// Progress of a build, for progress bars.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildProgress {
    pub products: u64,
    pub orders: u64,
    pub order_lines: u64,
    pub browse_events: u64,
}

impl Models {
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            shops: RwLock::new(HashMap::new()),
            reflected: std::sync::atomic::AtomicI64::new(0),
            generation: std::sync::atomic::AtomicU64::new(0),
            origin: uuid::Uuid::new_v4(),
        }
    }

    /// This process's id in the model log.
    pub fn origin(&self) -> uuid::Uuid {
        self.origin
    }

    fn slot(&self, shop: ShopId) -> Option<Arc<Slot>> {
        self.shops.read().ok()?.get(&shop).cloned()
    }

    /// The current generation of all models (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Records that every webhook up to `inbox_id` is reflected in the models.
    pub fn mark_reflected(&self, inbox_id: i64) {
        self.reflected
            .fetch_max(inbox_id, std::sync::atomic::Ordering::SeqCst);
    }

    /// The highest inbox id the models reflect.
    pub fn reflected(&self) -> i64 {
        self.reflected.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Runs `f` on the shop's product cards; `None` when the shop has no model.
    pub fn read_cards<R>(&self, shop: ShopId, f: impl FnOnce(&Cards) -> R) -> Option<R> {
        let slot = self.slot(shop)?;
        let guard = slot.cards.read().ok()?;
        Some(f(&guard))
    }

    /// Runs `f` on the shop's model; `None` when the shop has no model.
    pub fn read<R>(&self, shop: ShopId, f: impl FnOnce(&ShopModel) -> R) -> Option<R> {
        let slot = self.slot(shop)?;
        let guard: RwLockReadGuard<'_, ShopModel> = slot.model.read().ok()?;
        Some(f(&guard))
    }

    /// Builds a model from the store (rules, products, orders, browse events).
    pub async fn build(
        pool: &PgPool,
        shop: ShopId,
        config: EngineConfig,
        mut progress: impl FnMut(BuildProgress),
    ) -> anyhow::Result<ShopModel> {
        let mut model = ShopModel::new(config);
        let mut seen = BuildProgress::default();
        model.set_rules(
            facts::rules(pool, shop)
                .await
                .context("Failed to load rules")?,
        );
        for state in facts::products(pool, shop, None)
            .await
            .context("Failed to load products")?
        {
            apply_product(&mut model, state);
            seen.products += 1;
        }
        progress(seen);
        // Collected first: the engine's bulk path builds its derived structures once.
        let mut orders = Vec::new();
        facts::orders(pool, shop, None, |order| {
            seen.orders += 1;
            seen.order_lines += order.lines.len() as u64;
            orders.push(order);
            if seen.orders % 10_000 == 0 {
                progress(seen);
            }
        })
        .await
        .context("Failed to load orders")?;
        model.upsert_orders(orders);
        progress(seen);
        facts::browse(pool, shop, |event| {
            seen.browse_events += 1;
            model.record_browse(event);
        })
        .await
        .context("Failed to load browse events")?;
        progress(seen);
        Ok(model)
    }

    /// Rebuilds one shop's model from the store and swaps it in.
    pub async fn rebuild(&self, pool: &PgPool, shop: ShopId) -> anyhow::Result<ModelStats> {
        let slot = self.slot_or_insert(shop);
        let _writer = slot.writer.lock().await;
        let config = self.config_for(pool, shop).await?;
        let model = Self::build(pool, shop, config, |_| {}).await?;
        let cards = Cards {
            by_id: catalog::cards(pool, shop, None).await?,
            currency: catalog::currency(pool, shop).await?,
        };
        let stats = model.stats();
        if let Ok(mut current) = slot.model.write() {
            *current = model;
        }
        if let Ok(mut current) = slot.cards.write() {
            *current = cards;
        }
        self.changed();
        Ok(stats)
    }

    /// The engine settings of a shop: the configured ones with the shop's own half-lives.
    async fn config_for(&self, pool: &PgPool, shop: ShopId) -> anyhow::Result<EngineConfig> {
        let own = crate::store::shop_settings::get(pool, shop).await?;
        let mut config = self.config.clone();
        if let Some(days) = own.bestseller_half_life_days {
            config.bestseller_half_life_days = days;
        }
        if let Some(days) = own.pair_half_life_days {
            config.pair_half_life_days = days;
        }
        Ok(config)
    }

    /// Builds the models of every installed shop (at start-up).
    pub async fn rebuild_all(&self, pool: &PgPool) -> anyhow::Result<()> {
        let shops = crate::store::shops::installed(pool).await?;
        for shop in shops {
            let started = std::time::Instant::now();
            let stats = self.rebuild(pool, shop).await?;
            tracing::info!(
                shop.id = shop.0,
                orders = stats.orders,
                products = stats.products,
                pairs = stats.pairs,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "model built"
            );
        }
        Ok(())
    }

    fn slot_or_insert(&self, shop: ShopId) -> Arc<Slot> {
        if let Some(slot) = self.slot(shop) {
            return slot;
        }
        let mut shops = self.shops.write().unwrap_or_else(|e| e.into_inner());
        shops
            .entry(shop)
            .or_insert_with(|| {
                Arc::new(Slot {
                    model: RwLock::new(ShopModel::new(self.config.clone())),
                    cards: RwLock::new(Cards::default()),
                    writer: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }

    /// Brings the models up to date with what a committed batch changed.
    pub async fn refresh(&self, pool: &PgPool, touched: &Touched) -> anyhow::Result<()> {
        for shop in &touched.dropped_shops {
            if let Ok(mut shops) = self.shops.write() {
                shops.remove(shop);
            }
        }
        for shop in touched.shops() {
            if touched.dropped_shops.contains(&shop) {
                continue;
            }
            if self.slot(shop).is_none() {
                // First sight of this shop in this process: build it whole.
                self.rebuild(pool, shop).await?;
                continue;
            }
            let slot = self.slot_or_insert(shop);
            let _writer = slot.writer.lock().await;
            let product_ids = touched.product_ids(shop);
            let order_ids = touched.order_ids(shop);
            let (products, cards) = if product_ids.is_empty() {
                (Vec::new(), HashMap::new())
            } else {
                (
                    facts::products(pool, shop, Some(&product_ids)).await?,
                    catalog::cards(pool, shop, Some(&product_ids)).await?,
                )
            };
            let needs_currency = !order_ids.is_empty()
                && slot
                    .cards
                    .read()
                    .map(|c| c.currency.is_empty())
                    .unwrap_or(false);
            let currency = if needs_currency {
                Some(catalog::currency(pool, shop).await?)
            } else {
                None
            };
            let mut orders = Vec::new();
            if !order_ids.is_empty() {
                facts::orders(pool, shop, Some(&order_ids), |o| orders.push(o)).await?;
            }
            let rules = if touched.rules.contains(&shop) {
                Some(facts::rules(pool, shop).await?)
            } else {
                None
            };
            if !product_ids.is_empty() || currency.is_some() {
                let mut current = slot.cards.write().unwrap_or_else(|e| e.into_inner());
                for id in &product_ids {
                    match cards.get(id) {
                        Some(card) => current.by_id.insert(*id, card.clone()),
                        None => current.by_id.remove(id),
                    };
                }
                if let Some(currency) = currency {
                    current.currency = currency;
                }
            }
            let mut model = slot.model.write().unwrap_or_else(|e| e.into_inner());
            for state in products {
                apply_product(&mut model, state);
            }
            for order in orders {
                model.upsert_order(order);
            }
            for customer in touched.forgotten_customers(shop) {
                model.forget_customer(customer);
            }
            if let Some(rules) = rules {
                model.set_rules(rules);
            }
            drop(model);
            self.changed();
        }
        Ok(())
    }

    /// Adds newly stored browse events (they never change once stored).
    pub fn record_browse(&self, shop: ShopId, events: impl IntoIterator<Item = BrowseFacts>) {
        let Some(slot) = self.slot(shop) else { return };
        let mut model = slot.model.write().unwrap_or_else(|e| e.into_inner());
        for event in events {
            model.record_browse(event);
        }
    }
}

fn apply_product(model: &mut ShopModel, state: ProductState) {
    match state {
        ProductState::Live(facts) => model.upsert_product(facts),
        ProductState::Deleted { product_id, at } => model.remove_product(product_id, at),
    }
}
