//! The typed form of every client command we accept: IMAP4rev2 (RFC 9051),
//! IMAP4rev1 (RFC 3501) and the extensions we advertise. The parser
//! (`crate::parser`) produces these; the session executes them.
//!
//! Mailbox names are decoded UTF-8 (modified UTF-7 is undone by the parser
//! for rev1 clients), and `INBOX` is case-folded to upper case wherever a
//! mailbox name (not a LIST pattern) is expected (RFC 9051 §5.1).

use crate::sequence::SequenceSet;

/// One client command: its tag and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    pub body: CommandBody,
}

/// A flag or keyword as sent by the client. System flags are normalised to
/// their canonical spelling (`\seen` → `\Seen`); keywords keep their case
/// (they compare without case, RFC 9051 §2.3.2).
pub type Flag = String;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    // --- any state (RFC 9051 §6.1)
    Capability,
    Noop,
    Logout,
    /// RFC 2971 ID: `None` for `ID NIL`, else field/value pairs.
    Id(Option<Vec<(String, Option<String>)>>),

    // --- not authenticated (§6.2)
    StartTls,
    /// `initial_response` is SASL-IR (RFC 4959), base64-decoded; `=` gives
    /// `Some(vec![])` (an empty response), absence gives `None`.
    Authenticate {
        mechanism: String,
        initial_response: Option<Vec<u8>>,
    },
    /// Credentials are raw octets as sent (astrings may be literals holding
    /// any UTF-8); the session decides how to interpret them.
    Login {
        username: Vec<u8>,
        password: Vec<u8>,
    },

    // --- authenticated (§6.3)
    /// Capability names, upper-cased.
    Enable(Vec<String>),
    Select {
        mailbox: String,
        params: SelectParams,
    },
    Examine {
        mailbox: String,
        params: SelectParams,
    },
    /// `special_use`: RFC 6154 CREATE-SPECIAL-USE `(USE (\Drafts ...))`,
    /// attribute names canonicalised (`\drafts` → `\Drafts`).
    Create {
        mailbox: String,
        special_use: Vec<String>,
    },
    Delete {
        mailbox: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Subscribe {
        mailbox: String,
    },
    Unsubscribe {
        mailbox: String,
    },
    List(ListCommand),
    /// RFC 3501 §6.3.9 (kept for rev1 clients; deprecated in rev2).
    Lsub {
        reference: String,
        pattern: String,
    },
    Namespace,
    Status {
        mailbox: String,
        items: Vec<StatusItem>,
    },
    /// Only produced by [`crate::parser::parse_command`] on a fully
    /// buffered command (tests, tools). On a connection the framer streams
    /// APPEND instead: see `crate::framing::Event::AppendMessage`.
    Append {
        mailbox: String,
        messages: Vec<AppendMessage>,
    },
    Idle,

    // --- selected (§6.4)
    Check,
    Close,
    Unselect,
    Expunge,
    /// UIDPLUS `UID EXPUNGE set` (RFC 4315 §2.1, RFC 9051 §6.4.9).
    UidExpunge(SequenceSet),
    Search(SearchCommand),
    Fetch(FetchCommand),
    Store(StoreCommand),
    Copy {
        uid: bool,
        set: SequenceSet,
        mailbox: String,
    },
    Move {
        uid: bool,
        set: SequenceSet,
        mailbox: String,
    },
}

impl CommandBody {
    /// The command name as a client would write it, for logs and for the
    /// text of tagged replies ("FETCH completed").
    pub fn name(&self) -> &'static str {
        match self {
            CommandBody::Capability => "CAPABILITY",
            CommandBody::Noop => "NOOP",
            CommandBody::Logout => "LOGOUT",
            CommandBody::Id(_) => "ID",
            CommandBody::StartTls => "STARTTLS",
            CommandBody::Authenticate { .. } => "AUTHENTICATE",
            CommandBody::Login { .. } => "LOGIN",
            CommandBody::Enable(_) => "ENABLE",
            CommandBody::Select { .. } => "SELECT",
            CommandBody::Examine { .. } => "EXAMINE",
            CommandBody::Create { .. } => "CREATE",
            CommandBody::Delete { .. } => "DELETE",
            CommandBody::Rename { .. } => "RENAME",
            CommandBody::Subscribe { .. } => "SUBSCRIBE",
            CommandBody::Unsubscribe { .. } => "UNSUBSCRIBE",
            CommandBody::List(_) => "LIST",
            CommandBody::Lsub { .. } => "LSUB",
            CommandBody::Namespace => "NAMESPACE",
            CommandBody::Status { .. } => "STATUS",
            CommandBody::Append { .. } => "APPEND",
            CommandBody::Idle => "IDLE",
            CommandBody::Check => "CHECK",
            CommandBody::Close => "CLOSE",
            CommandBody::Unselect => "UNSELECT",
            CommandBody::Expunge => "EXPUNGE",
            CommandBody::UidExpunge(_) => "UID EXPUNGE",
            CommandBody::Search(s) if s.uid => "UID SEARCH",
            CommandBody::Search(_) => "SEARCH",
            CommandBody::Fetch(f) if f.uid => "UID FETCH",
            CommandBody::Fetch(_) => "FETCH",
            CommandBody::Store(s) if s.uid => "UID STORE",
            CommandBody::Store(_) => "STORE",
            CommandBody::Copy { uid: true, .. } => "UID COPY",
            CommandBody::Copy { .. } => "COPY",
            CommandBody::Move { uid: true, .. } => "UID MOVE",
            CommandBody::Move { .. } => "MOVE",
        }
    }
}

/// SELECT/EXAMINE parameters (RFC 7162). Parsed so that a client using them
/// gets a precise answer; we do not advertise CONDSTORE/QRESYNC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectParams {
    pub condstore: bool,
    pub qresync: Option<QresyncParams>,
    /// Any other parameter names, upper-cased (the session answers BAD).
    pub unknown: Vec<String>,
}

/// RFC 7162 §3.2.5 `QRESYNC (uidvalidity modseq [known-uids [seq-match]])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QresyncParams {
    pub uidvalidity: u32,
    pub modseq: u64,
    pub known_uids: Option<SequenceSet>,
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// LIST, basic (RFC 9051 §6.3.9) or extended (RFC 5258, 5819, 6154).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListCommand {
    /// Decoded like a mailbox name, but INBOX is not case-folded.
    pub reference: String,
    /// One or more patterns (several only in the extended syntax).
    pub patterns: Vec<String>,
    pub selection: ListSelection,
    pub returns: ListReturn,
    /// True when the extended syntax was used (selection options,
    /// a parenthesised pattern list or RETURN): RFC 5258 §3 changes a few
    /// rules (e.g. CHILDREN info is returned unasked in rev2 anyway).
    pub extended: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSelection {
    pub subscribed: bool,
    pub remote: bool,
    pub recursive_match: bool,
    pub special_use: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListReturn {
    pub subscribed: bool,
    pub children: bool,
    pub special_use: bool,
    /// RFC 5819 LIST-STATUS: `RETURN (STATUS (MESSAGES UNSEEN))`.
    pub status: Option<Vec<StatusItem>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    Messages,
    /// rev1 only (RFC 3501); a rev2 client may still ask.
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    /// RFC 9051 §6.3.11 DELETED.
    Deleted,
    /// RFC 8438 STATUS=SIZE.
    Size,
    /// RFC 7162; answered only if CONDSTORE were supported.
    HighestModSeq,
    /// RFC 7889 APPENDLIMIT as a STATUS item.
    AppendLimit,
}

impl StatusItem {
    pub fn name(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::AppendLimit => "APPENDLIMIT",
        }
    }
}

/// A date-time as in APPEND (`"17-Jul-1996 02:44:25 -0700"`) and
/// INTERNALDATE: the instant plus the zone it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Seconds since the Unix epoch, UTC.
    pub timestamp: i64,
    /// The zone offset east of UTC in minutes (-0700 → -420).
    pub offset_minutes: i32,
}

/// A calendar date as in SEARCH (`1-Feb-1994`): no time, no zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    /// 1..=12
    pub month: u8,
    /// 1..=31 (validated against the month)
    pub day: u8,
}

impl Date {
    /// Days since 1970-01-01 (negative before), proleptic Gregorian.
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    /// The date of a Unix timestamp seen in a zone `offset_minutes` east
    /// of UTC (SEARCH compares INTERNALDATE dates in their own zone).
    pub fn from_timestamp(timestamp: i64, offset_minutes: i32) -> Date {
        let local = timestamp.saturating_add(i64::from(offset_minutes) * 60);
        let (year, month, day) = mailroom_net::time::civil_from_days(local.div_euclid(86_400));
        Date { year, month, day }
    }
}

/// One message of an APPEND (several with MULTIAPPEND, RFC 3502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    /// Sent as a literal8 `~{n}` (RFC 3516 BINARY): may hold NULs.
    pub binary: bool,
    /// The message octets (only in a fully buffered parse).
    pub data: Vec<u8>,
}

/// SEARCH / UID SEARCH, with ESEARCH return options (RFC 4731, 9051).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCommand {
    pub uid: bool,
    /// Upper-cased charset name if given.
    pub charset: Option<String>,
    /// The criteria; several top-level keys are wrapped in `And`.
    pub criteria: SearchKey,
    /// `None`: no RETURN given (rev1 clients get `* SEARCH`, rev2 get
    /// ESEARCH with ALL). `Some(vec![])`: `RETURN ()`, i.e. ALL (RFC 4731).
    pub return_opts: Option<Vec<SearchReturn>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturn {
    Min,
    Max,
    Count,
    All,
    /// RFC 5182 SEARCHRES: save the result as `$`.
    Save,
}

/// Every search key of RFC 9051 §6.4.4, the RFC 3501-only ones, WITHIN
/// (RFC 5032) and MODSEQ (RFC 7162). String arguments are decoded as UTF-8
/// (lossily for a charset other than UTF-8/US-ASCII; the session rejects
/// such charsets with BADCHARSET).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// A parenthesised list or the implicit AND of top-level keys.
    And(Vec<SearchKey>),
    All,
    Answered,
    Bcc(String),
    Before(Date),
    Body(String),
    Cc(String),
    Deleted,
    Draft,
    Flagged,
    From(String),
    /// Field name and substring (an empty substring matches any message
    /// that has the field).
    Header(String, String),
    Keyword(Flag),
    Larger(u64),
    /// rev1: \Recent and not \Seen.
    New,
    Not(Box<SearchKey>),
    /// rev1: not \Recent.
    Old,
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    /// rev1.
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    Smaller(u64),
    Subject(String),
    Text(String),
    To(String),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(Flag),
    Unseen,
    /// A bare sequence set (message sequence numbers, or `$`).
    SequenceSet(SequenceSet),
    /// RFC 5032 WITHIN: INTERNALDATE older than n seconds.
    Older(u64),
    /// RFC 5032 WITHIN: INTERNALDATE younger than n seconds.
    Younger(u64),
    /// RFC 7162 §3.1.5 `MODSEQ [entry-name entry-type] modseq`.
    ModSeq {
        entry: Option<(String, String)>,
        modseq: u64,
    },
}

/// FETCH / UID FETCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchCommand {
    pub uid: bool,
    pub set: SequenceSet,
    /// Macros (ALL, FAST, FULL) are expanded. For UID FETCH the session
    /// adds UID to the reply itself (RFC 9051 §6.4.9).
    pub items: Vec<FetchItem>,
    pub modifiers: FetchModifiers,
}

/// RFC 7162 FETCH modifiers; parsed, answered only if CONDSTORE/QRESYNC
/// were supported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchModifiers {
    pub changed_since: Option<u64>,
    pub vanished: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Flags,
    InternalDate,
    Rfc822Size,
    Envelope,
    /// `BODY` without a section: the non-extensible BODYSTRUCTURE.
    Body,
    BodyStructure,
    Uid,
    /// RFC 7162 MODSEQ.
    ModSeq,
    /// `BODY[section]<partial>` / `BODY.PEEK[...]`.
    BodySection {
        peek: bool,
        section: Section,
        partial: Option<Partial>,
    },
    /// RFC 3516 / 9051 `BINARY[part]<partial>` / `BINARY.PEEK`.
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[part]`.
    BinarySize {
        part: Vec<u32>,
    },
    /// `BINARY[1.HEADER]`, `BINARY[TEXT]`, `BINARY[2.MIME]`, ...: outside
    /// the RFC 3516 grammar (part numbers only), but Dovecot answers them
    /// and imaptest expects it. Header blocks have no transfer encoding,
    /// so the data is that of BODY[section].
    BinarySection {
        peek: bool,
        section: Section,
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[1.HEADER]` etc.
    BinarySectionSize {
        section: Section,
    },
    /// RFC 3501 `RFC822` (= BODY[], sets \Seen; reply item `RFC822`).
    Rfc822,
    /// `RFC822.HEADER` (= BODY.PEEK[HEADER]).
    Rfc822Header,
    /// `RFC822.TEXT` (= BODY[TEXT], sets \Seen).
    Rfc822Text,
}

impl FetchItem {
    /// Whether fetching this item sets `\Seen` (RFC 9051 §6.4.5).
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            FetchItem::BodySection { peek: false, .. }
                | FetchItem::Binary { peek: false, .. }
                | FetchItem::BinarySection { peek: false, .. }
                | FetchItem::Rfc822
                | FetchItem::Rfc822Text
        )
    }
}

/// `<origin.length>` of a partial fetch; the reply carries `<origin>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    pub offset: u64,
    /// Non-zero (RFC 9051 nz-number).
    pub length: u64,
}

/// A body section specification (RFC 9051 §6.4.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Part path, e.g. `[1, 2]` for `1.2`; empty for the whole message.
    pub part: Vec<u32>,
    pub kind: SectionKind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SectionKind {
    /// No text part: the whole message (`BODY[]`) or the whole part body.
    #[default]
    Full,
    Header,
    /// Field names upper-cased as sent; compared without case.
    HeaderFields(Vec<String>),
    HeaderFieldsNot(Vec<String>),
    Text,
    /// Only with a non-empty part path.
    Mime,
}

impl std::fmt::Display for Section {
    /// The section text as echoed in a FETCH reply: `1.2.HEADER.FIELDS (A B)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for n in &self.part {
            if !first {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
            first = false;
        }
        let text = match &self.kind {
            SectionKind::Full => return Ok(()),
            SectionKind::Header => "HEADER",
            SectionKind::Text => "TEXT",
            SectionKind::Mime => "MIME",
            SectionKind::HeaderFields(_) => "HEADER.FIELDS",
            SectionKind::HeaderFieldsNot(_) => "HEADER.FIELDS.NOT",
        };
        if !first {
            f.write_str(".")?;
        }
        f.write_str(text)?;
        if let SectionKind::HeaderFields(names) | SectionKind::HeaderFieldsNot(names) = &self.kind {
            f.write_str(" (")?;
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                crate::response::write_astring_fmt(f, n)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// STORE / UID STORE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCommand {
    pub uid: bool,
    pub set: SequenceSet,
    pub op: StoreOp,
    /// `.SILENT`: no untagged FETCH for the changed flags.
    pub silent: bool,
    pub flags: Vec<Flag>,
    /// RFC 7162 `(UNCHANGEDSINCE n)`.
    pub unchanged_since: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    /// `FLAGS`
    Replace,
    /// `+FLAGS`
    Add,
    /// `-FLAGS`
    Remove,
}
