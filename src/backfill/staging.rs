//! `backfill_line`: the result lines as downloaded, keyed by their line number in the file, so
//! a resumed download skips what is already here. Objects are assembled from it afterwards,
//! children joined to their parent by GID whatever order the file had them in.

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};

use super::jsonl::Line;
use crate::store::ShopId;

/// Stores lines numbered from `first_line_no`; lines already staged are left as they are.
pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    shop: ShopId,
    job_id: i64,
    kind: &str,
    first_line_no: i64,
    lines: &[Line],
) -> sqlx::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let numbers: Vec<i64> = (first_line_no..).take(lines.len()).collect();
    let gids: Vec<Option<String>> = lines.iter().map(|l| l.gid.clone()).collect();
    let parents: Vec<Option<String>> = lines.iter().map(|l| l.parent.clone()).collect();
    let bodies: Vec<Value> = lines.iter().map(|l| l.body.clone()).collect();
    sqlx::query!(
        "insert into backfill_line (shop_id, job_id, kind, line_no, gid, parent_gid, body)
         select $1, $2, $3, v.line_no, v.gid, v.parent_gid, v.body
           from unnest($4::int8[], $5::text[], $6::text[], $7::jsonb[])
                as v(line_no, gid, parent_gid, body)
         on conflict do nothing",
        shop.0,
        job_id,
        kind,
        &numbers,
        &gids as &[Option<String>],
        &parents as &[Option<String>],
        &bodies
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets a phase's lines (its result expired and the operation runs again).
pub async fn clear(pool: &PgPool, shop: ShopId, job_id: i64, kind: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from backfill_line where shop_id = $1 and job_id = $2 and kind = $3",
        shop.0,
        job_id,
        kind
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Top-level objects staged (lines without a parent), over both phases.
pub async fn roots(pool: &PgPool, shop: ShopId, job_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from backfill_line
            where shop_id = $1 and job_id = $2 and parent_gid is null"#,
        shop.0,
        job_id
    )
    .fetch_one(pool)
    .await
}

/// One assembled object: its own line and its children's.
pub struct Assembled {
    pub line_no: i64,
    pub body: Value,
    pub children: Vec<Value>,
}

/// Up to `limit` top-level objects after line `after`, each with its children, in file order.
pub async fn page(
    pool: &PgPool,
    shop: ShopId,
    job_id: i64,
    kind: &str,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<Assembled>> {
    let rows = sqlx::query!(
        r#"select r.line_no, r.body,
                  coalesce((select jsonb_agg(c.body order by c.line_no) from backfill_line c
                             where c.shop_id = r.shop_id and c.job_id = r.job_id
                               and c.kind = r.kind and c.parent_gid = r.gid), '[]') as "children!"
             from backfill_line r
            where r.shop_id = $1 and r.job_id = $2 and r.kind = $3 and r.parent_gid is null
              and r.line_no > $4
            order by r.line_no
            limit $5"#,
        shop.0,
        job_id,
        kind,
        after,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Assembled {
            line_no: r.line_no,
            body: r.body,
            children: match r.children {
                Value::Array(list) => list,
                _ => Vec::new(),
            },
        })
        .collect())
}
