//! What one socket keeps per room (its viewing peer, what its join learned),
//! in the socket's extensions: cloned handles to one map, dropped with the
//! socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mongodb::bson::oid::ObjectId;

/// Room id → `V`, shared by the clones of one socket's handle.
pub struct SocketMap<V>(Arc<Mutex<HashMap<ObjectId, V>>>);

impl<V> Clone for SocketMap<V> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<V> Default for SocketMap<V> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<V: Copy> SocketMap<V> {
    fn lock(&self) -> MutexGuard<'_, HashMap<ObjectId, V>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, room: ObjectId) -> Option<V> {
        self.lock().get(&room).copied()
    }

    /// Keeps `value` for the room, giving back what it replaced.
    pub fn insert(&self, room: ObjectId, value: V) -> Option<V> {
        self.lock().insert(room, value)
    }

    pub fn remove(&self, room: ObjectId) -> Option<V> {
        self.lock().remove(&room)
    }

    /// Empties the map (the socket is going), giving back what it held.
    pub fn drain(&self) -> Vec<(ObjectId, V)> {
        self.lock().drain().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_map() {
        let map = SocketMap::<u32>::default();
        let other = map.clone();
        let room = ObjectId::new();
        assert_eq!(map.insert(room, 1), None);
        assert_eq!(other.insert(room, 2), Some(1));
        assert_eq!(map.get(room), Some(2));
        assert_eq!(other.drain(), vec![(room, 2)]);
        assert_eq!(map.remove(room), None);
    }
}
