//! The session cookie of a self-hosted login: `shoprecs_admin=<shop_id>.<secret>`, HttpOnly,
//! SameSite=Strict, scoped to `/admin`, Secure unless `admin.secure_cookie` is off.

use axum::http::{header, HeaderMap, HeaderValue};

use crate::store::ShopId;

pub const COOKIE: &str = "shoprecs_admin";

/// The cookie's value, split into the shop it claims and the secret that proves it.
pub(super) fn read(headers: &HeaderMap) -> Option<(ShopId, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| {
            let (shop, secret) = value.split_once('.')?;
            let shop = shop.parse::<i64>().ok()?;
            let valid = secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit());
            valid.then(|| (ShopId(shop), secret.to_owned()))
        })
}

/// `Set-Cookie` for a new session lasting `max_age_secs`.
pub(super) fn set(shop: ShopId, secret: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE}={}.{secret}; Max-Age={max_age_secs}; Path=/admin; HttpOnly; SameSite=Strict{secure}",
        shop.0
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| clear(true))
}

/// `Set-Cookie` that removes the session cookie.
pub(super) fn clear(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "shoprecs_admin=; Max-Age=0; Path=/admin; HttpOnly; SameSite=Strict; Secure",
        )
    } else {
        HeaderValue::from_static(
            "shoprecs_admin=; Max-Age=0; Path=/admin; HttpOnly; SameSite=Strict",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_a_well_formed_session_cookie() {
        let secret = "ab".repeat(32);
        let mut headers = HeaderMap::new();
        let v = format!("a=1; shoprecs_admin=7.{secret}; b=2");
        headers.insert(header::COOKIE, HeaderValue::from_str(&v).expect("header"));
        assert_eq!(read(&headers), Some((ShopId(7), secret)));
        for bad in [
            "shoprecs_admin=7",
            "shoprecs_admin=x.ab",
            "shoprecs_admin=7.zz",
        ] {
            headers.insert(header::COOKIE, HeaderValue::from_static(bad));
            assert_eq!(read(&headers), None, "{bad}");
        }
    }
}
