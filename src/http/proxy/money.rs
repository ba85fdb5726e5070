//! Prices in the shop's currency, the way storefronts usually show them.

use rust_decimal::{Decimal, RoundingStrategy};

/// `€9.50`, `$10.00`, `¥1200`, or `10.00 CHF` for currencies without a common symbol.
pub fn format(amount: Decimal, currency: &str) -> String {
    let zero_decimals = matches!(currency, "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF");
    let rounded = amount.round_dp_with_strategy(
        if zero_decimals { 0 } else { 2 },
        RoundingStrategy::MidpointAwayFromZero,
    );
    let number = if zero_decimals {
        format!("{}", rounded.trunc())
    } else {
        format!("{rounded:.2}")
    };
    let symbol = match currency {
        "USD" | "CAD" | "AUD" | "NZD" | "MXN" | "SGD" | "HKD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" | "CNY" => "¥",
        "INR" => "₹",
        "KRW" => "₩",
        _ => return format!("{number} {currency}").trim().to_owned(),
    };
    format!("{symbol}{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_common_currencies() {
        assert_eq!(format(Decimal::new(950, 2), "EUR"), "€9.50");
        assert_eq!(format(Decimal::new(10, 0), "USD"), "$10.00");
        assert_eq!(format(Decimal::new(12005, 1), "JPY"), "¥1201");
        assert_eq!(format(Decimal::new(1999, 2), "CHF"), "19.99 CHF");
    }
}
