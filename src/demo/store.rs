//! The demo service's in-memory accounts: sessions made by `POST /login`
//! and the items users create. Bounded: at most `max_sessions` live
//! sessions (a login beyond that evicts the oldest one, whose token then
//! gets 401) and `max_items` items (a create beyond that is refused, 503:
//! evicting data a user may read back would look like a bug in the
//! service). Thread-safe behind one mutex; every operation is O(1) but
//! listing a user's items.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;

/// Live sessions kept at most.
pub(crate) const MAX_SESSIONS: usize = 10_000;
/// Items kept at most.
pub(crate) const MAX_ITEMS: usize = 100_000;

/// One item, as `GET /items/N` answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Item {
    pub id: u64,
    pub name: String,
    pub owner: String,
}

/// What reading an item found.
#[derive(Debug, PartialEq)]
pub(crate) enum Lookup {
    Found(Item),
    NotFound,
    /// It exists and belongs to someone else.
    Forbidden,
}

/// The store is full: no item was created.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("the demo keeps at most {0} items")]
pub(crate) struct Full(pub usize);

pub(crate) struct Store {
    max_sessions: usize,
    max_items: usize,
    rng: crate::rng::SharedRng,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Token → user.
    sessions: HashMap<String, String>,
    /// Tokens, oldest first, for eviction.
    order: VecDeque<String>,
    /// Item N is `items[N - 1]`.
    items: Vec<Item>,
    /// User → the ids of their items, in creation order.
    by_owner: HashMap<String, Vec<u64>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::with_limits(MAX_SESSIONS, MAX_ITEMS)
    }
}

impl Store {
    pub(crate) fn with_limits(max_sessions: usize, max_items: usize) -> Store {
        Store {
            max_sessions: max_sessions.max(1),
            max_items,
            rng: Default::default(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session for `user`: two draws of the clock-seeded SplitMix64
    /// sequence as 32 hex digits, unique and opaque to clients but not
    /// unguessable (this is a demo, not an identity provider).
    pub(crate) fn login(&self, user: &str) -> String {
        let mut inner = self.lock();
        let token = loop {
            let token = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
            if !inner.sessions.contains_key(&token) {
                break token;
            }
        };
        while inner.sessions.len() >= self.max_sessions {
            match inner.order.pop_front() {
                Some(oldest) => inner.sessions.remove(&oldest),
                None => break,
            };
        }
        inner.sessions.insert(token.clone(), user.to_string());
        inner.order.push_back(token.clone());
        token
    }

    /// The user of a live session.
    pub(crate) fn user(&self, token: &str) -> Option<String> {
        self.lock().sessions.get(token).cloned()
    }

    pub(crate) fn create(&self, owner: &str, name: &str) -> Result<Item, Full> {
        let mut inner = self.lock();
        if inner.items.len() >= self.max_items {
            return Err(Full(self.max_items));
        }
        let item = Item {
            id: inner.items.len() as u64 + 1,
            name: name.to_string(),
            owner: owner.to_string(),
        };
        inner.items.push(item.clone());
        inner
            .by_owner
            .entry(owner.to_string())
            .or_default()
            .push(item.id);
        Ok(item)
    }

    pub(crate) fn get(&self, user: &str, id: u64) -> Lookup {
        let inner = self.lock();
        let index = id.checked_sub(1).and_then(|i| usize::try_from(i).ok());
        match index.and_then(|i| inner.items.get(i)) {
            None => Lookup::NotFound,
            Some(item) if item.owner == user => Lookup::Found(item.clone()),
            Some(_) => Lookup::Forbidden,
        }
    }

    /// `user`'s items, oldest first.
    pub(crate) fn list(&self, user: &str) -> Vec<Item> {
        let inner = self.lock();
        inner.by_owner.get(user).map_or_else(Vec::new, |ids| {
            ids.iter()
                .map(|&id| inner.items[id as usize - 1].clone())
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_beyond_the_bound_evicts_the_oldest_session() {
        let store = Store::with_limits(3, 10);
        let tokens: Vec<String> = (0..4).map(|i| store.login(&format!("u{i}"))).collect();
        assert_eq!(store.user(&tokens[0]), None, "the oldest went");
        for (i, token) in tokens.iter().enumerate().skip(1) {
            assert_eq!(store.user(token), Some(format!("u{i}")));
            assert_eq!(token.len(), 32);
            assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        }
        assert_eq!(store.lock().sessions.len(), 3);
        assert_eq!(store.lock().order.len(), 3);
    }

    #[test]
    fn a_create_beyond_the_bound_is_refused_and_keeps_what_exists() {
        let store = Store::with_limits(10, 2);
        assert_eq!(store.create("a", "one").unwrap().id, 1);
        assert_eq!(store.create("b", "two").unwrap().id, 2);
        assert_eq!(store.create("a", "three"), Err(Full(2)));
        assert_eq!(store.list("a").len(), 1);
        assert!(matches!(store.get("b", 2), Lookup::Found(item) if item.name == "two"));
    }

    #[test]
    fn items_are_read_by_their_owner_only() {
        let store = Store::default();
        let item = store.create("alice", "pen").unwrap();
        assert_eq!(store.get("alice", item.id), Lookup::Found(item.clone()));
        assert_eq!(store.get("bob", item.id), Lookup::Forbidden);
        assert_eq!(store.get("alice", 0), Lookup::NotFound);
        assert_eq!(store.get("alice", u64::MAX), Lookup::NotFound);
        assert_eq!(store.list("bob"), vec![]);
        assert_eq!(store.list("alice"), vec![item]);
    }

    #[test]
    fn concurrent_logins_and_creates_lose_nothing() {
        let store = std::sync::Arc::new(Store::with_limits(1_000, 10_000));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let user = format!("u{t}");
                    let mut tokens = Vec::new();
                    for i in 0..200 {
                        tokens.push(store.login(&user));
                        store.create(&user, &format!("i{i}")).unwrap();
                    }
                    tokens
                })
            })
            .collect();
        let tokens: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let distinct: std::collections::HashSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), 800, "every token differs");
        let mut ids: Vec<u64> = (0..4)
            .flat_map(|t| store.list(&format!("u{t}")))
            .map(|item| item.id)
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=800).collect::<Vec<u64>>());
    }
}
