//! Choosing the next hop for a recipient domain: `[delivery.routes]`, then
//! the smarthost, then DNS (RFC 5321 §5.1: MX records in preference order,
//! equal preferences shuffled; no MX → the domain itself; RFC 7505: a null
//! MX means the domain takes no mail).
use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

use crate::config::DeliveryConfig;

/// A host to try, with the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    pub permanent: bool,
    /// Enhanced status code and text, e.g. `5.1.2 domain not found`.
    pub message: String,
}

/// Parses `host:port`, `[v6]:port` or a bare host (port 25).
pub fn parse_host_port(s: &str) -> Option<Hop> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 25,
            None => return None,
        };
        return Some(Hop {
            host: host.to_string(),
            port,
        });
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some(Hop {
            host: h.to_string(),
            port: p.parse().ok()?,
        }),
        Some(_) => Some(Hop {
            host: s.to_string(),
            port: 25,
        }),
        None if !s.is_empty() => Some(Hop {
            host: s.to_string(),
            port: 25,
        }),
        None => None,
    }
}

/// Whether mail for `domain` goes through the smarthost (no route for it).
pub fn uses_smarthost(config: &DeliveryConfig, domain: &str) -> bool {
    config.smarthost.is_some() && !config.routes.keys().any(|d| d.eq_ignore_ascii_case(domain))
}

/// The hosts to try for `domain`, best first.
pub async fn next_hops(
    config: &DeliveryConfig,
    resolver: Option<&TokioResolver>,
    domain: &str,
) -> Result<Vec<Hop>, RouteError> {
    let configured = config
        .routes
        .iter()
        .find(|(d, _)| d.eq_ignore_ascii_case(domain))
        .map(|(_, hop)| hop)
        .or(config.smarthost.as_ref());
    if let Some(hop) = configured {
        return parse_host_port(hop).map(|h| vec![h]).ok_or_else(|| RouteError {
            permanent: false,
            message: format!("4.3.5 bad route '{hop}' in configuration"),
        });
    }
    if let Some(lit) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip = lit.strip_prefix("ipv6:").unwrap_or(lit);
        return Ok(vec![Hop {
            host: ip.to_string(),
            port: 25,
        }]);
    }
    let Some(resolver) = resolver else {
        return Err(RouteError {
            permanent: false,
            message: "4.4.3 no DNS resolver available".into(),
        });
    };
    let fqdn = format!("{}.", domain.trim_end_matches('.'));
    match resolver.mx_lookup(fqdn.as_str()).await {
        Ok(lookup) => {
            let mx: Vec<(u16, String)> = lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::MX(m) => Some((m.preference, m.exchange.to_ascii())),
                    _ => None,
                })
                .collect();
            order_mx(domain, mx)
        }
        Err(e) if e.is_nx_domain() => Err(RouteError {
            permanent: true,
            message: format!("5.1.2 domain {domain} not found"),
        }),
        // No MX record: the domain itself is the implicit MX (§5.1).
        Err(e) if e.is_no_records_found() => Ok(vec![Hop {
            host: domain.to_string(),
            port: 25,
        }]),
        Err(e) => Err(RouteError {
            permanent: false,
            message: format!("4.4.3 DNS lookup for {domain} failed: {e}"),
        }),
    }
}

/// Orders MX records (RFC 5321 §5.1): by preference, equal preferences
/// in random order; none → the domain itself; a lone "." → null MX.
pub fn order_mx(domain: &str, mut mx: Vec<(u16, String)>) -> Result<Vec<Hop>, RouteError> {
    let is_null = |h: &str| h == "." || h.is_empty();
    if mx.len() == 1 && is_null(&mx[0].1) {
        // RFC 7505 §3: the domain accepts no mail.
        return Err(RouteError {
            permanent: true,
            message: format!("5.1.10 domain {domain} accepts no mail (null MX)"),
        });
    }
    if mx.is_empty() {
        return Ok(vec![Hop {
            host: domain.to_string(),
            port: 25,
        }]);
    }
    shuffle(&mut mx);
    mx.sort_by_key(|(p, _)| *p);
    Ok(mx
        .into_iter()
        .filter(|(_, h)| !is_null(h))
        .map(|(_, h)| Hop {
            host: h.trim_end_matches('.').to_string(),
            port: 25,
        })
        .collect())
}

/// Resolves a hop's host to addresses (A/AAAA via the system resolver).
pub async fn addresses(hop: &Hop) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = hop.host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, hop.port)]);
    }
    match tokio::net::lookup_host((hop.host.as_str(), hop.port)).await {
        Ok(it) => {
            let v: Vec<SocketAddr> = it.collect();
            if v.is_empty() {
                Err(format!("{} has no address", hop.host))
            } else {
                Ok(v)
            }
        }
        Err(e) => Err(format!("resolving {}: {e}", hop.host)),
    }
}

/// Fisher-Yates with a hasher-seeded generator; only needs to spread load
/// among equal-preference MX hosts, not to be unpredictable.
fn shuffle<T>(v: &mut [T]) {
    use std::hash::{BuildHasher, Hasher};
    let mut seed = std::collections::hash_map::RandomState::new().build_hasher().finish() | 1;
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port() {
        assert_eq!(
            parse_host_port("127.0.0.1:2525"),
            Some(Hop {
                host: "127.0.0.1".into(),
                port: 2525
            })
        );
        assert_eq!(parse_host_port("mx.test").unwrap().port, 25);
        assert_eq!(parse_host_port("[::1]:26").unwrap().host, "::1");
        assert_eq!(parse_host_port("::1").unwrap().port, 25);
        assert_eq!(parse_host_port("h:x"), None);
    }

    #[test]
    fn mx_ordering() {
        let hosts = |v: Vec<Hop>| v.into_iter().map(|h| h.host).collect::<Vec<_>>();
        let got = order_mx(
            "d.test",
            vec![
                (20, "c.d.test.".into()),
                (10, "a.d.test.".into()),
                (10, "b.d.test.".into()),
            ],
        )
        .unwrap();
        let got = hosts(got);
        assert_eq!(got[2], "c.d.test");
        assert!(got[..2].contains(&"a.d.test".to_string()) && got[..2].contains(&"b.d.test".to_string()));
        // Equal preferences are shuffled: both orders show up.
        let mut firsts = std::collections::HashSet::new();
        for _ in 0..64 {
            let v = order_mx("d.test", vec![(10, "a.".into()), (10, "b.".into())]).unwrap();
            firsts.insert(v[0].host.clone());
        }
        assert_eq!(firsts.len(), 2);
        assert_eq!(hosts(order_mx("d.test", vec![]).unwrap()), vec!["d.test"]);
        let null = order_mx("d.test", vec![(0, ".".into())]).unwrap_err();
        assert!(null.permanent && null.message.starts_with("5.1.10"));
    }

    #[tokio::test]
    async fn routes_before_smarthost() {
        let mut c = DeliveryConfig {
            smarthost: Some("relay.test:587".into()),
            ..Default::default()
        };
        c.routes.insert("b.test".into(), "127.0.0.1:2526".into());
        assert_eq!(next_hops(&c, None, "B.test").await.unwrap()[0].port, 2526);
        assert_eq!(next_hops(&c, None, "c.test").await.unwrap()[0].host, "relay.test");
        c.smarthost = None;
        assert!(!next_hops(&c, None, "c.test").await.unwrap_err().permanent);
    }
}
