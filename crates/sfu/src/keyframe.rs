//! Owns the keyframe-request throttle of one publisher video track: at most
//! one request per window, and a request made inside the window is kept and
//! sent when the window ends, so a new viewer never waits a whole keyframe
//! interval.

use std::time::{Duration, Instant};

/// Throttle state for one publisher track.
#[derive(Debug, Default)]
pub(crate) struct KeyframeThrottle {
    last_sent: Option<Instant>,
    pending: bool,
}

impl KeyframeThrottle {
    /// Records a request. Returns true when it may be sent now; otherwise it
    /// is kept pending until [`KeyframeThrottle::due`].
    pub(crate) fn request(&mut self, now: Instant, window: Duration) -> bool {
        self.pending = true;
        self.ready(now, window)
    }

    /// Whether a pending request may be sent now.
    pub(crate) fn ready(&self, now: Instant, window: Duration) -> bool {
        self.pending && self.last_sent.is_none_or(|t| now >= t + window)
    }

    /// When the pending request becomes sendable, if one is pending.
    pub(crate) fn due(&self, window: Duration) -> Option<Instant> {
        if !self.pending {
            return None;
        }
        // `None` last_sent means "now": the caller sends it at the next turn.
        self.last_sent.map(|t| t + window)
    }

    /// Whether a request is waiting.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending
    }

    /// Marks the pending request as sent at `now`.
    pub(crate) fn sent(&mut self, now: Instant) {
        self.pending = false;
        self.last_sent = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_millis(500);

    #[test]
    fn first_request_goes_out_at_once() {
        let now = Instant::now();
        let mut t = KeyframeThrottle::default();
        assert!(t.request(now, W));
        t.sent(now);
        assert!(!t.is_pending());
        assert_eq!(t.due(W), None);
    }

    #[test]
    fn request_inside_window_is_deferred_not_dropped() {
        let now = Instant::now();
        let mut t = KeyframeThrottle::default();
        assert!(t.request(now, W));
        t.sent(now);
        let later = now + Duration::from_millis(100);
        assert!(!t.request(later, W));
        assert!(!t.request(later, W), "coalesced, still pending");
        assert_eq!(t.due(W), Some(now + W));
        assert!(!t.ready(now + Duration::from_millis(499), W));
        assert!(t.ready(now + W, W));
        t.sent(now + W);
        assert!(!t.is_pending());
    }
}
