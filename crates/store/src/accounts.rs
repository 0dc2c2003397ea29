//! Domains, accounts and aliases.
use rusqlite::{Connection, OptionalExtension, params};

use crate::mailbox::{DEFAULT_MAILBOXES, insert_mailbox};
use crate::{Result, Store, StoreError, now};

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub address: String,
    pub password_hash: String,
    pub quota_bytes: Option<u64>,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub address: String,
    pub target: String,
}

/// Lower-cases and checks a domain name (RFC 1035 labels).
pub fn normalize_domain(domain: &str) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(StoreError::Invalid(format!("bad domain name '{}'", domain.trim())))
    }
}

/// Lower-cases and checks `local@domain`. Local parts are compared without
/// case, as Postfix and Dovecot do by default.
pub fn normalize_address(address: &str) -> Result<String> {
    let a = address.trim();
    let bad = || StoreError::Invalid(format!("bad address '{a}'"));
    let (local, domain) = a.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    if !local_ok {
        return Err(bad());
    }
    let domain = normalize_domain(domain).map_err(|_| bad())?;
    Ok(format!("{}@{}", local.to_ascii_lowercase(), domain))
}

fn row_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        address: r.get(1)?,
        password_hash: r.get(2)?,
        quota_bytes: r.get::<_, Option<i64>>(3)?.map(|q| q as u64),
        used_bytes: r.get::<_, i64>(4)? as u64,
    })
}

const ACCOUNT_COLS: &str = "id, address, password_hash, quota_bytes, used_bytes";

pub(crate) fn domain_id(conn: &Connection, domain: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT id FROM domains WHERE name = ?1", [domain], |r| r.get(0))
        .optional()?)
}

pub(crate) fn account_id(conn: &Connection, address: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM accounts WHERE address = ?1", [address], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("account {address}")))
}

impl Store {
    pub fn domain_add(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name)?;
        self.write(move |c, _| {
            if domain_id(c, &name)?.is_some() {
                return Err(StoreError::Exists(format!("domain {name}")));
            }
            c.execute(
                "INSERT INTO domains (name, created) VALUES (?1, ?2)",
                params![name, now()],
            )?;
            Ok(())
        })
    }

    /// Removes a domain that has no accounts and no aliases left.
    pub fn domain_del(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name)?;
        self.write(move |c, _| {
            let id = domain_id(c, &name)?.ok_or_else(|| StoreError::NotFound(format!("domain {name}")))?;
            let users: i64 = c.query_row("SELECT COUNT(*) FROM accounts WHERE domain_id = ?1", [id], |r| r.get(0))?;
            let suffix = format!("%@{name}");
            let aliases: i64 = c.query_row("SELECT COUNT(*) FROM aliases WHERE address LIKE ?1", [&suffix], |r| {
                r.get(0)
            })?;
            if users + aliases > 0 {
                return Err(StoreError::Invalid(format!(
                    "domain {name} still has {users} account(s) and {aliases} alias(es)"
                )));
            }
            c.execute("DELETE FROM domains WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    pub fn domain_list(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT name FROM domains ORDER BY name")?;
            let rows = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(rows)
        })
    }

    pub fn is_local_domain(&self, name: &str) -> Result<bool> {
        let Ok(name) = normalize_domain(name) else {
            return Ok(false);
        };
        self.read(move |c| Ok(domain_id(c, &name)?.is_some()))
    }

    /// Creates an account with its default mailboxes (RFC 6154 special use).
    pub fn account_create(&self, address: &str, password_hash: &str, quota_bytes: Option<u64>) -> Result<Account> {
        let address = normalize_address(address)?;
        let hash = password_hash.to_string();
        self.write(move |c, _| {
            let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let did = domain_id(c, domain)?
                .ok_or_else(|| StoreError::NotFound(format!("domain {domain} (add it first)")))?;
            let taken: bool = c
                .query_row(
                    "SELECT 1 FROM accounts WHERE address = ?1 UNION ALL SELECT 1 FROM aliases WHERE address = ?1",
                    [&address],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if taken {
                return Err(StoreError::Exists(format!("address {address}")));
            }
            c.execute(
                "INSERT INTO accounts (address, domain_id, password_hash, quota_bytes, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![address, did, hash, quota_bytes.map(|q| q as i64), now()],
            )?;
            let id = c.last_insert_rowid();
            for (name, special) in DEFAULT_MAILBOXES {
                insert_mailbox(c, id, name, *special)?;
                c.execute("INSERT INTO subscriptions (account_id, name) VALUES (?1, ?2)", params![id, name])?;
            }
            Ok(Account {
                id,
                address,
                password_hash: hash,
                quota_bytes,
                used_bytes: 0,
            })
        })
    }

    pub fn account_set_password(&self, address: &str, password_hash: &str) -> Result<()> {
        let address = normalize_address(address)?;
        let hash = password_hash.to_string();
        self.write(move |c, _| {
            let n = c.execute(
                "UPDATE accounts SET password_hash = ?1 WHERE address = ?2",
                params![hash, address],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("account {address}")));
            }
            Ok(())
        })
    }

    pub fn account_set_quota(&self, address: &str, quota_bytes: Option<u64>) -> Result<()> {
        let address = normalize_address(address)?;
        self.write(move |c, _| {
            let n = c.execute(
                "UPDATE accounts SET quota_bytes = ?1 WHERE address = ?2",
                params![quota_bytes.map(|q| q as i64), address],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("account {address}")));
            }
            Ok(())
        })
    }

    /// Deletes an account, its mailboxes, messages and aliases.
    pub fn account_delete(&self, address: &str) -> Result<()> {
        let address = normalize_address(address)?;
        self.write(move |c, fx| {
            let id = account_id(c, &address)?;
            let boxes: Vec<i64> = {
                let mut st = c.prepare("SELECT id FROM mailboxes WHERE account_id = ?1")?;
                st.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            for mb in boxes {
                crate::message::delete_mailbox_messages(c, fx, mb)?;
                c.execute("DELETE FROM changes WHERE mailbox_id = ?1", [mb])?;
                c.execute("DELETE FROM mailboxes WHERE id = ?1", [mb])?;
            }
            c.execute("DELETE FROM changes WHERE account_id = ?1", [id])?;
            c.execute("DELETE FROM subscriptions WHERE account_id = ?1", [id])?;
            c.execute("DELETE FROM aliases WHERE account_id = ?1", [id])?;
            c.execute("DELETE FROM accounts WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    pub fn account_list(&self) -> Result<Vec<Account>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("SELECT {ACCOUNT_COLS} FROM accounts ORDER BY address"))?;
            let rows = st.query_map([], row_account)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub fn account_by_address(&self, address: &str) -> Result<Option<Account>> {
        let Ok(address) = normalize_address(address) else {
            return Ok(None);
        };
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE address = ?1"),
                [&address],
                row_account,
            )
            .optional()?)
        })
    }

    pub fn account_by_id(&self, id: i64) -> Result<Option<Account>> {
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"),
                [id],
                row_account,
            )
            .optional()?)
        })
    }

    /// Finds the account that receives mail for `address`: the account
    /// itself, else an alias, else the domain's catch-all alias (`@domain`).
    pub fn resolve_recipient(&self, address: &str) -> Result<Option<Account>> {
        let Ok(address) = normalize_address(address) else {
            return Ok(None);
        };
        self.read(move |c| {
            let sql = format!(
                "SELECT {ACCOUNT_COLS} FROM accounts WHERE address = ?1
                 UNION ALL SELECT a.id, a.address, a.password_hash, a.quota_bytes, a.used_bytes
                   FROM aliases l JOIN accounts a ON a.id = l.account_id WHERE l.address = ?1
                 UNION ALL SELECT a.id, a.address, a.password_hash, a.quota_bytes, a.used_bytes
                   FROM aliases l JOIN accounts a ON a.id = l.account_id WHERE l.address = ?2
                 LIMIT 1"
            );
            let catch_all = format!("@{}", address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default());
            Ok(c.query_row(&sql, params![address, catch_all], row_account).optional()?)
        })
    }

    /// Addresses an account may send as: its own and its aliases.
    pub fn account_addresses(&self, account_id: i64) -> Result<Vec<String>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT address FROM accounts WHERE id = ?1 UNION ALL SELECT address FROM aliases WHERE account_id = ?1",
            )?;
            let rows = st.query_map([account_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(rows)
        })
    }

    /// Adds `alias` (an address, or `@domain` for a catch-all) for an account.
    pub fn alias_add(&self, alias: &str, target: &str) -> Result<()> {
        let alias_trim = alias.trim();
        let alias = match alias_trim.strip_prefix('@') {
            Some(d) => format!("@{}", normalize_domain(d)?),
            None => normalize_address(alias_trim)?,
        };
        let target = normalize_address(target)?;
        self.write(move |c, _| {
            let domain = alias.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            if domain_id(c, domain)?.is_none() {
                return Err(StoreError::NotFound(format!("domain {domain} (add it first)")));
            }
            let tid = account_id(c, &target)?;
            let taken = c
                .query_row(
                    "SELECT 1 FROM accounts WHERE address = ?1 UNION ALL SELECT 1 FROM aliases WHERE address = ?1",
                    [&alias],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if taken {
                return Err(StoreError::Exists(format!("address {alias}")));
            }
            c.execute(
                "INSERT INTO aliases (address, account_id) VALUES (?1, ?2)",
                params![alias, tid],
            )?;
            Ok(())
        })
    }

    pub fn alias_del(&self, alias: &str) -> Result<()> {
        let a = alias.trim();
        let alias = match a.strip_prefix('@') {
            Some(d) => format!("@{}", normalize_domain(d)?),
            None => normalize_address(a)?,
        };
        self.write(move |c, _| {
            if c.execute("DELETE FROM aliases WHERE address = ?1", [&alias])? == 0 {
                return Err(StoreError::NotFound(format!("alias {alias}")));
            }
            Ok(())
        })
    }

    pub fn alias_list(&self) -> Result<Vec<Alias>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT l.address, a.address FROM aliases l JOIN accounts a ON a.id = l.account_id ORDER BY l.address",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok(Alias {
                        address: r.get(0)?,
                        target: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}
