//! The memory cap of one call: a resource limiter that counts every linear memory and table of
//! the store together, and remembers whether it refused anything, so a crash that follows a
//! refused allocation is reported as what it is.

use wasmtime::ResourceLimiter;

/// Cap on the elements of all tables together. Interpreted guests (Python, JavaScript) have
/// tables of tens of thousands of functions; a table growing past this is a runaway.
const TABLE_ELEMENTS: usize = 1_000_000;

pub(crate) struct MemoryGuard {
    limit: usize,
    memory_in_use: usize,
    table_elements: usize,
    refused: bool,
}

impl MemoryGuard {
    pub(crate) fn new(limit_bytes: u64) -> Self {
        MemoryGuard {
            limit: usize::try_from(limit_bytes).unwrap_or(usize::MAX),
            memory_in_use: 0,
            table_elements: 0,
            refused: false,
        }
    }

    /// True once a memory or table growth was refused because of the cap.
    pub(crate) fn refused(&self) -> bool {
        self.refused
    }
}

impl ResourceLimiter for MemoryGuard {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Growth beyond the memory's own declared maximum fails anyway; it is not ours to count.
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let in_use = self.memory_in_use - current.min(self.memory_in_use) + desired;
        if in_use > self.limit {
            self.refused = true;
            return Ok(false);
        }
        self.memory_in_use = in_use;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let elements = self.table_elements - current.min(self.table_elements) + desired;
        if elements > TABLE_ELEMENTS {
            self.refused = true;
            return Ok(false);
        }
        self.table_elements = elements;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 64 * 1024;

    #[test]
    fn counts_all_memories_against_one_cap() {
        let mut guard = MemoryGuard::new(10 * PAGE as u64);
        assert!(guard.memory_growing(0, 4 * PAGE, None).unwrap());
        assert!(guard.memory_growing(0, 4 * PAGE, None).unwrap());
        assert!(!guard.refused());
        // The second memory growing by 3 pages would make 11 pages in use.
        assert!(!guard.memory_growing(4 * PAGE, 7 * PAGE, None).unwrap());
        assert!(guard.refused());
        assert!(guard.memory_growing(4 * PAGE, 6 * PAGE, None).unwrap());
    }

    #[test]
    fn growth_past_the_declared_maximum_is_not_a_cap_refusal() {
        let mut guard = MemoryGuard::new(100 * PAGE as u64);
        assert!(!guard.memory_growing(0, 2 * PAGE, Some(PAGE)).unwrap());
        assert!(!guard.refused());
        assert!(guard.memory_growing(0, 100 * PAGE, None).unwrap());
    }

    #[test]
    fn caps_table_elements() {
        let mut guard = MemoryGuard::new(u64::MAX);
        assert!(guard.table_growing(0, TABLE_ELEMENTS, None).unwrap());
        assert!(!guard.table_growing(0, 1, None).unwrap());
        assert!(guard.refused());
    }
}
