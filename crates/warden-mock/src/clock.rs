//! The mock's clock: real time plus an offset that the control API can move, so expiry and
//! idle timeouts are tested in milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Default)]
pub struct MockClock {
    offset_ms: Arc<AtomicI64>,
}

impl MockClock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms())
    }

    pub fn reset(&self) {
        self.set_offset_ms(0);
    }

    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Sets the clock to read `at` now (it runs on from there). A test that steps through
    /// time with this, rather than `advance`, does not drift by the real time its steps take,
    /// so it meets the same moments however loaded the machine is.
    pub fn set_now(&self, at: DateTime<Utc>) {
        self.set_offset_ms((at - Utc::now()).num_milliseconds());
    }

    /// How far ahead of real time the mock is (saved with `--state`).
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn set_offset_ms(&self, offset: i64) {
        self.offset_ms.store(offset, Ordering::Relaxed);
    }
}
