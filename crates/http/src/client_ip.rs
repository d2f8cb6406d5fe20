//! Which address a request comes from: the TCP peer, or, behind proxies we were told to
//! trust, the address those proxies saw (`X-Forwarded-For`).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use ipnet::IpNet;

/// Whom to believe about the client's address.
#[derive(Debug, Clone, Default)]
pub enum TrustedProxies {
    /// Nobody: the TCP peer is the client (the default; a client cannot pick its address).
    #[default]
    None,
    /// Any peer, one hop: the last `X-Forwarded-For` entry (config `trust_proxy`, for a
    /// single proxy that is the only way in).
    AnyPeer,
    /// Peers in these networks (config `trusted_proxies`): entries they appended are
    /// skipped from the right until the first address outside them.
    Networks(Vec<IpNet>),
}

impl TrustedProxies {
    /// From the two settings; `networks` are CIDRs or single addresses. An error names the
    /// entry that is neither.
    pub fn from_config(trust_proxy: bool, networks: &[String]) -> Result<Self, String> {
        if networks.is_empty() {
            return Ok(if trust_proxy {
                TrustedProxies::AnyPeer
            } else {
                TrustedProxies::None
            });
        }
        networks
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: `{n}` is not an address or CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies::Networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        match self {
            TrustedProxies::None => false,
            TrustedProxies::AnyPeer => true,
            TrustedProxies::Networks(nets) => {
                let ip = ip.to_canonical();
                nets.iter().any(|n| n.contains(&ip))
            }
        }
    }
}

/// The client's address for `req` (canonical text, so a v4-mapped IPv6 peer and its IPv4
/// form are one client); `unknown` when there is no peer (a router driven in-process).
pub(crate) fn client(req: &Request, proxies: &TrustedProxies) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = match (proxies, peer) {
        (TrustedProxies::None, _) => peer,
        (TrustedProxies::AnyPeer, _) => forwarded(req).first().copied().or(peer),
        (TrustedProxies::Networks(_), Some(p)) if proxies.trusts(p) => {
            // From the nearest hop out: each trusted hop vouches for the entry before it;
            // the first address no trusted proxy owns is the client. All trusted: the
            // farthest one we could read.
            let chain = forwarded(req);
            chain
                .iter()
                .find(|ip| !proxies.trusts(**ip))
                .or(chain.last())
                .copied()
                .or(peer)
        }
        (TrustedProxies::Networks(_), _) => peer,
    };
    match ip {
        Some(ip) => ip.to_canonical().to_string(),
        None => "unknown".to_owned(),
    }
}

/// The parseable `X-Forwarded-For` entries, nearest hop first (the last entry of the last
/// header), across repeated headers. An entry that is not an address ends the chain there:
/// nothing beyond it can be vouched for.
fn forwarded(req: &Request) -> Vec<IpAddr> {
    req.headers()
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.rsplit(','))
        .map_while(|e| e.trim().parse::<IpAddr>().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(peer: &str, xff: &[&str]) -> Request {
        let mut b = axum::http::Request::builder();
        for v in xff {
            b = b.header("x-forwarded-for", *v);
        }
        let mut r = b.body(axum::body::Body::empty()).expect("request");
        let addr: SocketAddr = format!("{peer}:1234").parse().expect("addr");
        r.extensions_mut().insert(ConnectInfo(addr));
        r
    }

    fn nets(list: &[&str]) -> TrustedProxies {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        TrustedProxies::from_config(false, &list).expect("valid")
    }

    #[test]
    fn nobody_trusted_means_the_peer() {
        let r = req("192.0.2.1", &["203.0.113.5"]);
        assert_eq!(client(&r, &TrustedProxies::None), "192.0.2.1");
    }

    #[test]
    fn any_peer_takes_the_last_entry() {
        let r = req("192.0.2.1", &["10.0.0.1, 203.0.113.5"]);
        assert_eq!(client(&r, &TrustedProxies::AnyPeer), "203.0.113.5");
        let r = req("192.0.2.1", &[]);
        assert_eq!(client(&r, &TrustedProxies::AnyPeer), "192.0.2.1");
    }

    #[test]
    fn networks_skip_trusted_hops_from_the_right() {
        let t = nets(&["10.0.0.0/8", "192.0.2.1"]);
        // Client claims 1.1.1.1, real client 203.0.113.5, then two of our proxies.
        let r = req("192.0.2.1", &["1.1.1.1, 203.0.113.5", "10.1.2.3"]);
        assert_eq!(client(&r, &t), "203.0.113.5");
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let t = nets(&["10.0.0.0/8"]);
        let r = req("198.51.100.9", &["203.0.113.5"]);
        assert_eq!(client(&r, &t), "198.51.100.9");
    }

    #[test]
    fn a_garbage_entry_stops_the_chain() {
        let t = nets(&["10.0.0.0/8"]);
        let r = req("10.0.0.2", &["203.0.113.5, nonsense, 10.0.0.3"]);
        // Only 10.0.0.3 is parseable after the garbage, and it is trusted: the leftmost
        // vouched-for entry is the best we know.
        assert_eq!(client(&r, &t), "10.0.0.3");
    }

    #[test]
    fn v4_mapped_peers_match_v4_networks() {
        let t = nets(&["127.0.0.1"]);
        let r = req("[::ffff:127.0.0.1]", &["203.0.113.7"]);
        assert_eq!(client(&r, &t), "203.0.113.7");
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let err = TrustedProxies::from_config(false, &["10.0.0.0/33".into()]);
        assert!(err.is_err_and(|e| e.contains("10.0.0.0/33")));
    }
}
