#![allow(dead_code)]
use mailroom_store::{Account, Store};

pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    (dir, store)
}

pub fn with_user(store: &Store, address: &str) -> Account {
    let domain = address.rsplit_once('@').expect("address").1;
    if !store.domain_list().expect("domains").iter().any(|d| d == domain) {
        store.domain_add(domain).expect("domain add");
    }
    store.account_create(address, "$argon2id$dummy", None).expect("account")
}

pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: {subject}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@example.test>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}
