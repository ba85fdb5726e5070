//! The lifecycle segments and their definitions (shown in the API and README).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Prospect,
    New,
    Returning,
    AtRisk,
    Lapsed,
}

impl Segment {
    pub const ALL: [Segment; 5] = [
        Segment::Prospect,
        Segment::New,
        Segment::Returning,
        Segment::AtRisk,
        Segment::Lapsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Prospect => "prospect",
            Segment::New => "new",
            Segment::Returning => "returning",
            Segment::AtRisk => "at_risk",
            Segment::Lapsed => "lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// What the segment means, in the merchant's words.
    pub fn definition(self) -> &'static str {
        match self {
            Segment::Prospect => "No orders yet; signed up or browsed while logged in.",
            Segment::New => {
                "Exactly one order, and not yet past the point where a repeat order is due."
            }
            Segment::Returning => {
                "Two or more orders, and not yet past the point where the next one is due."
            }
            Segment::AtRisk => {
                "Past the point where this customer would normally have ordered again (their own \
                 median gap between orders, or the shop's when they have fewer than three \
                 orders, times the at-risk factor), but not yet lapsed."
            }
            Segment::Lapsed => "No order for longer than the shop's lapse window.",
        }
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
