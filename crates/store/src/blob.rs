//! Content-addressed message blobs on disk: `blobs/ab/cd/<sha256>`.
//!
//! A blob is written to `tmp/`, fsynced, renamed into place and its directory
//! fsynced before any database row refers to it, so a committed message never
//! points at a missing or partial file. Identical content is stored once.
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::Result;
use crate::parse::ParsedMessage;

#[derive(Clone, Debug)]
pub struct BlobDir {
    root: PathBuf,
    tmp: PathBuf,
    /// Hashes prepared in this process but not yet committed: never unlinked,
    /// even if the last committed reference to the same content goes away.
    pending: Arc<Mutex<HashMap<String, usize>>>,
    /// Answers "does a row refer to this blob?" when the last preparer of a
    /// blob lets go of it (a failed or abandoned append).
    db: Arc<Mutex<Option<rusqlite::Connection>>>,
    db_path: PathBuf,
}

#[derive(Debug)]
struct PendingGuard {
    dir: BlobDir,
    hash: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let mut map = self.dir.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.hash) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.hash);
                // Still under the lock, so no new preparer can start relying
                // on the file between the check and the removal.
                self.dir.remove_if_unreferenced(&self.hash);
            }
        }
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl BlobDir {
    pub fn open(data_dir: &Path) -> Result<BlobDir> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        fs::create_dir_all(&root)?;
        fs::create_dir_all(&tmp)?;
        Ok(BlobDir {
            root,
            tmp,
            pending: Arc::default(),
            db: Arc::default(),
            db_path: data_dir.join("mailroom.sqlite3"),
        })
    }

    /// Deletes the file of a blob that no row refers to (an append that
    /// failed over quota or was abandoned left it behind). Errors leave the
    /// file for the startup sweep.
    fn remove_if_unreferenced(&self, hash: &str) {
        let path = self.path(hash);
        if !path.is_file() {
            return;
        }
        let mut db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        if db.is_none() {
            *db = rusqlite::Connection::open_with_flags(&self.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()
                .filter(|c| c.busy_timeout(std::time::Duration::from_secs(5)).is_ok());
        }
        let Some(conn) = db.as_ref() else { return };
        let referenced = conn.query_row("SELECT 1 FROM blobs WHERE hash = ?1", [hash], |_| Ok(()));
        if matches!(referenced, Err(rusqlite::Error::QueryReturnedNoRows)) {
            let _ = fs::remove_file(path);
        }
    }

    pub fn path(&self, hash: &str) -> PathBuf {
        let (a, b) = (&hash[..2.min(hash.len())], &hash[2.min(hash.len())..4.min(hash.len())]);
        self.root.join(a).join(b).join(hash)
    }

    pub fn exists(&self, hash: &str) -> bool {
        self.path(hash).is_file()
    }

    /// Removes a blob whose last reference was committed away, unless the
    /// same content is being stored again right now.
    pub fn remove(&self, hash: &str) {
        let map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(hash) {
            let _ = fs::remove_file(self.path(hash));
        }
    }

    fn hold(&self, hash: &str) -> PendingGuard {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(hash.to_string()).or_insert(0) += 1;
        PendingGuard {
            dir: self.clone(),
            hash: hash.to_string(),
        }
    }

    fn tmp_file(&self) -> Result<(PathBuf, File)> {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = self.tmp.join(format!("{}-{}.tmp", std::process::id(), n));
        let file = OpenOptions::new().write(true).read(true).create_new(true).open(&path)?;
        Ok((path, file))
    }

    /// Moves a complete, fsynced temporary file to its content address.
    fn install(&self, tmp: &Path, hash: &str) -> Result<()> {
        let dest = self.path(hash);
        let dir = dest
            .parent()
            .ok_or_else(|| crate::StoreError::Corrupt("blob path".into()))?;
        if dest.is_file() {
            let _ = fs::remove_file(tmp);
            return Ok(());
        }
        fs::create_dir_all(dir)?;
        fs::rename(tmp, &dest)?;
        File::open(dir)?.sync_all()?;
        Ok(())
    }

    pub fn open_blob(&self, hash: &str) -> io::Result<File> {
        File::open(self.path(hash))
    }

    /// Reads `len` bytes from `offset` (fewer at the end of the blob).
    pub fn read_range(&self, hash: &str, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let mut f = self.open_blob(hash)?;
        let size = f.metadata()?.len();
        let start = offset.min(size);
        let n = len.min(size - start);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = vec![0u8; n as usize];
        f.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// Removes what a crash can leave behind: temporary files, and blob files
    /// no row refers to (written, then the process died before the commit).
    /// Only files older than `min_age` are touched, so a concurrent writer's
    /// work in progress is safe.
    pub fn sweep(&self, min_age: std::time::Duration, is_referenced: &dyn Fn(&str) -> bool) -> Result<usize> {
        let old = |p: &Path| {
            fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= min_age)
        };
        let mut removed = 0;
        for entry in fs::read_dir(&self.tmp)? {
            let p = entry?.path();
            if p.is_file() && old(&p) && fs::remove_file(&p).is_ok() {
                removed += 1;
            }
        }
        for a in fs::read_dir(&self.root)? {
            let a = a?.path();
            if !a.is_dir() {
                continue;
            }
            for b in fs::read_dir(&a)? {
                let b = b?.path();
                if !b.is_dir() {
                    continue;
                }
                for f in fs::read_dir(&b)? {
                    let f = f?.path();
                    let Some(hash) = f.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                        continue;
                    };
                    let pending = self
                        .pending
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains_key(&hash);
                    if !pending && old(&f) && !is_referenced(&hash) && fs::remove_file(&f).is_ok() {
                        removed += 1;
                    }
                }
            }
        }
        Ok(removed)
    }

    pub fn writer(&self) -> Result<BlobWriter> {
        let (path, file) = self.tmp_file()?;
        Ok(BlobWriter {
            dir: self.clone(),
            path: Some(path),
            file,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    pub fn prepare(&self, bytes: &[u8]) -> Result<PreparedBlob> {
        if bytes.len() as u64 <= INLINE_MAX {
            let hash = hex(&Sha256::digest(bytes));
            return PreparedBlob::new(self, hash, bytes.len() as u64, bytes, Some(bytes.to_vec()));
        }
        let mut w = self.writer()?;
        w.write_all(bytes)?;
        w.finish_with(Some(bytes))
    }
}

/// Messages up to this size live inside the database, committed by the same
/// fsync as their message row, instead of costing two more fsyncs (file and
/// directory) each. Larger ones are files.
pub const INLINE_MAX: u64 = 128 * 1024;

/// A message written, hashed and parsed, ready to be referenced by messages.
#[derive(Clone, Debug)]
pub struct PreparedBlob {
    pub hash: String,
    pub size: u64,
    pub(crate) parsed_json: String,
    /// The bytes of a small message, to be stored in the database.
    pub(crate) inline: Option<Arc<Vec<u8>>>,
    _hold: Arc<PendingGuard>,
}

impl PreparedBlob {
    fn new(dir: &BlobDir, hash: String, size: u64, bytes: &[u8], inline: Option<Vec<u8>>) -> Result<PreparedBlob> {
        let parsed = crate::parse::parse(bytes);
        let parsed_json = serde_json::to_string(&parsed).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
        let hold = dir.hold(&hash);
        Ok(PreparedBlob {
            hash,
            size,
            parsed_json,
            inline: inline.map(Arc::new),
            _hold: Arc::new(hold),
        })
    }

    pub fn parsed(&self) -> Result<ParsedMessage> {
        serde_json::from_str(&self.parsed_json).map_err(|e| crate::StoreError::Corrupt(e.to_string()))
    }
}

/// Streams a message to disk (e.g. an IMAP literal or SMTP DATA) without
/// holding it in memory; `finish` makes it durable and parses it once.
pub struct BlobWriter {
    dir: BlobDir,
    path: Option<PathBuf>,
    file: File,
    hasher: Sha256,
    size: u64,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl BlobWriter {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Result<PreparedBlob> {
        self.finish_with(None)
    }

    fn finish_with(mut self, bytes: Option<&[u8]>) -> Result<PreparedBlob> {
        self.file.flush()?;
        let hash = hex(&self.hasher.clone().finalize());
        let owned;
        let bytes = match bytes {
            Some(b) => b,
            None => {
                // One read of the message into memory, for the one parse.
                let mut buf = Vec::with_capacity(self.size as usize);
                self.file.seek(SeekFrom::Start(0))?;
                self.file.read_to_end(&mut buf)?;
                owned = buf;
                &owned
            }
        };
        if self.size <= INLINE_MAX {
            // Dropping `self` removes the temporary file.
            return PreparedBlob::new(&self.dir, hash, self.size, bytes, Some(bytes.to_vec()));
        }
        self.file.sync_all()?;
        let prepared = PreparedBlob::new(&self.dir, hash, self.size, bytes, None)?;
        if let Some(path) = self.path.take() {
            self.dir.install(&path, &prepared.hash)?;
        }
        Ok(prepared)
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_file(p);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}
