//! Tagged command results and how store errors become them.
use mailroom_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

/// The tagged completion of a command: `tag OK [CODE] text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: Status,
    pub code: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Ok,
            code: None,
            text: text.into(),
        }
    }

    pub fn no(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::No,
            code: None,
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Bad,
            code: None,
            text: text.into(),
        }
    }

    pub fn code(mut self, code: impl Into<String>) -> Reply {
        self.code = Some(code.into());
        self
    }

    pub fn write(&self, tag: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(tag.as_bytes());
        out.extend_from_slice(match self.status {
            Status::Ok => b" OK ",
            Status::No => b" NO ",
            Status::Bad => b" BAD ",
        });
        if let Some(c) = &self.code {
            out.push(b'[');
            out.extend_from_slice(c.as_bytes());
            out.extend_from_slice(b"] ");
        }
        // Text must not break the line (it may quote client input).
        for &b in self.text.as_bytes() {
            out.push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// RFC 5530 response codes for store failures. Server-side failures are
/// logged; the client only learns that it was not its fault.
pub fn store_error(e: &StoreError) -> Reply {
    match e {
        StoreError::NotFound(_) => Reply::no("Mailbox does not exist").code("NONEXISTENT"),
        StoreError::Exists(_) => Reply::no("Mailbox already exists").code("ALREADYEXISTS"),
        StoreError::Invalid(why) => Reply::no(why.clone()).code("CANNOT"),
        // RFC 9051 §6.3.4: refusing a DELETE with inferiors uses HASCHILDREN.
        StoreError::HasChildren(_) => Reply::no("Mailbox has children, delete them first").code("HASCHILDREN"),
        StoreError::QuotaExceeded => Reply::no("Quota exceeded").code("OVERQUOTA"),
        StoreError::Db(_) | StoreError::Corrupt(_) => {
            tracing::error!(error = %e, "imap: store error");
            Reply::no("Internal error").code("SERVERBUG")
        }
        StoreError::Io(_) | StoreError::WriterGone | StoreError::Commit(_) => {
            tracing::error!(error = %e, "imap: store unavailable");
            Reply::no("Temporary failure, try again later").code("UNAVAILABLE")
        }
    }
}
