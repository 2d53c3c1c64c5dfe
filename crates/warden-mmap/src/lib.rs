//! Maps an IP database file into memory instead of reading it: the databases are tens of
//! megabytes, and a tray app that reads them whole would hold them all day. Mapped, only the
//! pages a lookup touches are resident, and the kernel may drop them again.
//!
//! Mapping is `unsafe` because another process truncating the file in place would turn
//! reads of the mapping into a crash. The databases are files nobody writes in place:
//! the project's set-up and `geoipupdate` both write a new file and rename it over the old
//! one, which leaves this mapping on the old file, intact. That is the contract relied on.
#![deny(unsafe_op_in_unsafe_fn)]

use std::path::Path;

pub use maxminddb::{MaxMindDbError, Mmap, Reader};

/// The database at `path`, memory-mapped and checked to be a MaxMind DB.
pub fn open(path: &Path) -> Result<Reader<Mmap>, MaxMindDbError> {
    // SAFETY: see the module's documentation: the file is never truncated in place.
    unsafe { Reader::open_mmap(path) }
}
