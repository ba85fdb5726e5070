//! Segment members as flows see them, and the whole segment as CSV.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::{engagement_of, policy_for_reading, LifecycleConfig};
use crate::segments::{score, Policy, Segment};
use crate::store::segments::{self, CustomerFacts};
use crate::store::ShopId;

/// A customer as flows need them: ids, segment, score, consent; nothing personal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub customer_id: i64,
    pub segment: String,
    pub segment_since: Option<DateTime<Utc>>,
    pub vip: bool,
    /// Engagement score now, 0–100.
    pub engagement_score: f64,
    pub orders_count: i32,
    pub last_order_at: Option<DateTime<Utc>>,
    pub accepts_email_marketing: bool,
    pub accepts_sms_marketing: bool,
}

pub fn member(
    c: &CustomerFacts,
    policy: &Policy,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
) -> Member {
    Member {
        customer_id: c.customer_id,
        segment: c.segment.clone().unwrap_or_default(),
        segment_since: c.segment_since,
        vip: c.vip,
        engagement_score: score(&engagement_of(c), &config.weights, policy.median_spent, now),
        orders_count: c.orders_count,
        last_order_at: c.last_order_at,
        accepts_email_marketing: c.accepts_email_marketing,
        accepts_sms_marketing: c.accepts_sms_marketing,
    }
}

/// Which customers: a segment, or the VIPs of every segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Segment(Segment),
    Vip,
}

impl Selection {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "vip" => Some(Selection::Vip),
            other => Segment::parse(other).map(Selection::Segment),
        }
    }

    pub(crate) fn filter(self) -> (Option<&'static str>, bool) {
        match self {
            Selection::Segment(s) => (Some(s.as_str()), false),
            Selection::Vip => (None, true),
        }
    }
}

/// Writes every member of the selection as CSV (header first). Returns how many.
pub async fn write_csv<W: std::io::Write>(
    conn: &mut PgConnection,
    shop: ShopId,
    selection: Selection,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
    out: W,
) -> anyhow::Result<usize> {
    let policy = policy_for_reading(conn, shop, config, now).await?;
    let (segment, vip_only) = selection.filter();
    let mut writer = csv::Writer::from_writer(out);
    let mut after = i64::MIN;
    let mut n = 0;
    loop {
        let rows = segments::members(conn, shop, segment, vip_only, after, 5_000).await?;
        let Some(last) = rows.last().map(|r| r.customer_id) else {
            break;
        };
        for r in &rows {
            writer.serialize(member(r, &policy, config, now))?;
        }
        n += rows.len();
        after = last;
    }
    if n == 0 {
        // The header alone, so an empty segment is still a valid file with its columns.
        writer.write_record([
            "customer_id",
            "segment",
            "segment_since",
            "vip",
            "engagement_score",
            "orders_count",
            "last_order_at",
            "accepts_email_marketing",
            "accepts_sms_marketing",
        ])?;
    }
    writer.flush()?;
    Ok(n)
}
