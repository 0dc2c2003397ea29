use thiserror::Error;

/// Errors from the store. The variants say whose fault it was: the caller's
/// request (`NotFound`, `Exists`, `Invalid`, `QuotaExceeded`, ...) or the
/// machine's (`Db`, `Io`, `Internal`).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Exists(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("mailbox has children: {0}")]
    HasChildren(String),
    #[error("quota exceeded")]
    QuotaExceeded,
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("store writer stopped")]
    WriterGone,
    #[error("commit failed: {0}")]
    Commit(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
