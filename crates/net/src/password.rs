//! Password hashing with argon2id, stored as PHC strings.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::NetError;

/// Memory cost in KiB (19 MiB), per the OWASP password storage cheat sheet.
pub const M_COST_KIB: u32 = 19 * 1024;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;

/// Upper bound on the memory cost accepted when verifying a stored hash
/// (1 GiB), so a corrupted or hostile hash cannot exhaust memory.
const MAX_VERIFY_M_COST_KIB: u32 = 1024 * 1024;
/// Upper bound on the time cost accepted when verifying.
const MAX_VERIFY_T_COST: u32 = 64;

/// Characters of generated passwords: letters and digits without the easily
/// confused `0 O o 1 l I` (8 + 24 + 24 = 56 symbols).
const ALPHABET: &[u8; 56] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
/// Length of generated passwords (~116 bits of entropy).
pub const GENERATED_LEN: usize = 20;

fn hasher() -> Result<Argon2<'static>, NetError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|e| NetError::Password(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with argon2id (m=19456 KiB, t=2, p=1) and a random
/// 16-byte salt, returning a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
///
/// This takes tens of milliseconds of CPU: call it from
/// `tokio::task::spawn_blocking` in async code.
pub fn hash_password(password: &str) -> Result<String, NetError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| NetError::Random(e.to_string()))?;
    let hash = hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| NetError::Password(e.to_string()))?;
    Ok(hash.to_string())
}

/// Checks `password` against a PHC string produced by [`hash_password`]
/// (any argon2 variant and parameters within sane bounds). The comparison
/// is constant-time. Returns `false` for malformed hashes.
///
/// CPU-heavy like [`hash_password`].
pub fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_M_COST_KIB || params.t_cost() > MAX_VERIFY_T_COST {
        return false;
    }
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Generates a random password of [`GENERATED_LEN`] characters from a
/// 56-symbol alphabet without ambiguous characters.
///
/// # Panics
/// If the operating system's random number generator fails.
pub fn generate_password() -> String {
    try_generate_password().expect("operating system random number generator failed")
}

/// Like [`generate_password`], but reports RNG failure as an error.
pub fn try_generate_password() -> Result<String, NetError> {
    // Rejection sampling: bytes >= 224 (= 4 * 56) are discarded so that
    // every symbol is equally likely.
    const LIMIT: u8 = 224;
    let mut out = String::with_capacity(GENERATED_LEN);
    let mut bytes = [0u8; 32];
    while out.len() < GENERATED_LEN {
        getrandom::fill(&mut bytes).map_err(|e| NetError::Random(e.to_string()))?;
        for &b in &bytes {
            if b < LIMIT && out.len() < GENERATED_LEN {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horse "));
        assert!(!verify_password(&h, ""));
        // Salted: hashing twice differs.
        assert_ne!(h, hash_password("correct horse").unwrap());
    }

    #[test]
    fn malformed_hashes_do_not_verify() {
        for bad in ["", "plain", "$argon2id$", "$2b$12$abcdefghijklmnopqrstuv"] {
            assert!(!verify_password(bad, "x"), "{bad}");
        }
        // Absurd parameters are refused rather than computed.
        let h = "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
        assert!(!verify_password(h, "x"));
    }

    #[test]
    fn verifies_other_argon2_parameters() {
        // Hashes made with other (cheaper) parameters still verify.
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let h = argon
            .hash_password_with_salt(b"pw", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(verify_password(&h, "pw"));
        assert!(!verify_password(&h, "pW"));
    }

    #[test]
    fn generated_passwords() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), GENERATED_LEN);
        assert_ne!(a, b);
        for c in a.chars().chain(b.chars()) {
            assert!(ALPHABET.contains(&(c as u8)), "{c}");
            assert!(!"0Oo1lI".contains(c));
        }
        let unique: std::collections::HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(unique.len(), 56);
    }
}
