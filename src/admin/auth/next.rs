//! Where to go after logging in: only local `/admin` paths, never another site.

use axum::http::Uri;

/// The page to go to after login: `raw` if it is a local path under `/admin`, else `/admin`.
/// Refuses `//host`, `/\host`, schemes, control characters and look-alikes (`/administrator`).
pub fn safe_next(raw: &str) -> &str {
    let rest = match raw.strip_prefix("/admin") {
        Some(rest) => rest,
        None => return "/admin",
    };
    let boundary = rest.is_empty() || rest.starts_with(['/', '?', '#']);
    let clean = !raw.contains('\\')
        && !raw.contains("//")
        && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
    if boundary && clean && raw.len() <= 2000 {
        raw
    } else {
        "/admin"
    }
}

/// The request's path and query, as a `next` value.
pub fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/admin".to_owned())
}

/// `k=v&…`, form-urlencoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_local_admin_paths_only() {
        for ok in ["/admin", "/admin/", "/admin/rules?q=a", "/admin?period=7"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.com",
            "https://evil.com/admin",
            "/administrator",
            "/admin//evil.com",
            "/admin/\\evil.com",
            "/admin/\nx",
            "",
            "/demo/",
        ] {
            assert_eq!(safe_next(bad), "/admin", "{bad:?}");
        }
    }
}
