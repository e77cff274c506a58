//! Pages of lists.

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Whether more items follow the last one.
    pub has_more: bool,
}
