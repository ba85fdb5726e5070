//! What an endpoint may be: parsed once at the edge (CLI and API) so stored URLs and topics
//! are always usable.

use super::topic;

/// Every topic an endpoint can subscribe to.
pub const TOPICS: &[&str] = &[
    topic::SEGMENT_CHANGED,
    topic::CHECKOUT_ABANDONED,
    topic::CHECKOUT_RECOVERED,
    topic::TEST,
];

/// Longest URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Why an endpoint was refused (shown to the merchant as is).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct InvalidEndpoint(pub String);

/// An absolute http(s) URL with a host and no credentials, normalised.
pub fn parse_url(raw: &str) -> Result<String, InvalidEndpoint> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(InvalidEndpoint(format!(
            "url is longer than {MAX_URL_LEN} characters"
        )));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| InvalidEndpoint(format!("url is not a valid absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(InvalidEndpoint(format!(
            "url must use http or https, not `{}`",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidEndpoint("url must name a host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InvalidEndpoint(
            "url must not contain a user name or password".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(InvalidEndpoint("url must not have a #fragment".into()));
    }
    Ok(url.to_string())
}

/// Known topics, deduplicated and sorted; empty means every topic.
pub fn parse_topics(raw: &[String]) -> Result<Vec<String>, InvalidEndpoint> {
    let mut topics = Vec::with_capacity(raw.len());
    for t in raw {
        let t = t.trim();
        if !TOPICS.contains(&t) {
            return Err(InvalidEndpoint(format!(
                "unknown topic `{t}`; topics are {}",
                TOPICS.join(", ")
            )));
        }
        topics.push(t.to_owned());
    }
    topics.sort();
    topics.dedup();
    Ok(topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_urls() {
        assert_eq!(
            parse_url(" https://hooks.example.com/shoprecs?key=1 ").as_deref(),
            Ok("https://hooks.example.com/shoprecs?key=1")
        );
        assert_eq!(
            parse_url("http://127.0.0.1:9000").as_deref(),
            Ok("http://127.0.0.1:9000/")
        );
    }

    #[test]
    fn refuses_other_schemes_relative_urls_credentials_and_garbage() {
        for (raw, reason) in [
            ("ftp://example.com/x", "http or https"),
            ("javascript:alert(1)", "http or https"),
            ("/relative/path", "not a valid absolute URL"),
            ("not a url", "not a valid absolute URL"),
            ("https://user:pw@example.com/", "user name or password"),
            ("https://example.com/#x", "fragment"),
            ("", "not a valid absolute URL"),
        ] {
            let err = parse_url(raw).expect_err(raw);
            assert!(err.0.contains(reason), "{raw}: {err}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(parse_url(&long).is_err());
    }

    #[test]
    fn topics_are_known_sorted_and_unique() {
        let raw = vec![
            topic::TEST.to_owned(),
            topic::CHECKOUT_ABANDONED.to_owned(),
            topic::TEST.to_owned(),
        ];
        assert_eq!(
            parse_topics(&raw),
            Ok(vec![
                topic::CHECKOUT_ABANDONED.to_owned(),
                topic::TEST.to_owned()
            ])
        );
        assert!(parse_topics(&["orders/create".to_owned()])
            .expect_err("unknown")
            .0
            .contains("unknown topic"));
    }
}
