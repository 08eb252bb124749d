//! Cursor pagination for every list: a page of items and an opaque cursor to the next one.
//!
//! A cursor is whatever the store needs to resume after the last item it returned (for DynamoDB,
//! the `LastEvaluatedKey`, encoded by the adapter). Clients get it as an opaque string and hand it
//! back unchanged; a store refuses a cursor it did not make for that list with
//! [`StoreError::InvalidCursor`](crate::StoreError::InvalidCursor), which callers answer as bad
//! input, never as a failure of ours.

/// The most items one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: usize = 20;

/// Where a page starts: after the item a previous page's cursor names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which page to read: at most `limit` items after `after` (from the start when None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// A request for the first `limit` items, clamped to 1..=[`MAX_LIMIT`].
    pub fn first(limit: usize) -> Self {
        Self {
            limit: limit.clamp(1, MAX_LIMIT),
            after: None,
        }
    }

    pub fn after(self, cursor: Option<Cursor>) -> Self {
        Self { after: cursor, ..self }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(DEFAULT_LIMIT)
    }
}

/// Up to one page of items, and the cursor to the next page when there may be more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }

    /// A page of `items`, already in list order, each with a unique `key` that also orders them
    /// (as a store's sort key would): the in-memory doubles page this way. The cursor is the last
    /// returned item's key.
    pub fn of_sorted(items: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
        let start = match &request.after {
            None => 0,
            Some(after) => items
                .iter()
                .position(|item| key(item).as_str() > after.as_str())
                .unwrap_or(items.len()),
        };
        let mut rest: Vec<T> = items.into_iter().skip(start).collect();
        let more = rest.len() > request.limit;
        rest.truncate(request.limit);
        let next = if more {
            rest.last().map(|item| Cursor::new(key(item)))
        } else {
            None
        };
        Page { items: rest, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(page: &Page<u32>) -> Vec<u32> {
        page.items.clone()
    }

    #[test]
    fn pages_walk_the_whole_list_once() {
        let items: Vec<u32> = (0..45).collect();
        let key = |n: &u32| format!("{n:04}");
        let mut request = PageRequest::first(20);
        let mut seen = Vec::new();
        loop {
            let page = Page::of_sorted(items.clone(), &request, key);
            seen.extend(keys(&page));
            match page.next {
                Some(next) => request = request.after(Some(next)),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn an_exact_fit_has_no_next_page() {
        let page = Page::of_sorted(vec![1u32, 2], &PageRequest::first(2), |n| n.to_string());
        assert_eq!((page.items.len(), page.next), (2, None));
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageRequest::first(0).limit, 1);
        assert_eq!(PageRequest::first(10_000).limit, MAX_LIMIT);
    }
}
