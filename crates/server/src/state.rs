//! The state every handler shares: database, settings and keys.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::Db;
use crate::pagination::CursorCodec;

/// Cheap to clone: one `Arc` around everything.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub settings: Settings,
    pub tokens: TokenKeys,
    pub cursors: CursorCodec,
    indexes_ready: AtomicBool,
}

impl AppState {
    pub fn new(db: Db, settings: Settings, tokens: TokenKeys, cursors: CursorCodec) -> Self {
        Self(Arc::new(Inner {
            db,
            settings,
            tokens,
            cursors,
            indexes_ready: AtomicBool::new(false),
        }))
    }

    pub fn indexes_ready(&self) -> bool {
        self.0.indexes_ready.load(Ordering::Acquire)
    }

    pub fn mark_indexes_ready(&self) {
        self.0.indexes_ready.store(true, Ordering::Release);
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
