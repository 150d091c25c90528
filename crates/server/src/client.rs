//! Who is at the other end: the client's address (behind trusted proxies,
//! the rightmost `X-Forwarded-For` hop that is not one of them) and the
//! network it belongs to, for throttles that must not be dodged by taking
//! the next address of the same block.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::error::ApiError;
use crate::state::AppState;

/// The client's address. A client cannot choose it: the header is read
/// only when the connection comes from a trusted proxy, and from the right,
/// where each trusted proxy appended what it saw (RFC 7239 §5.2 explains
/// why the leftmost entries are the client's own words).
pub fn client_ip(proxies: &[IpNet], headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let peer = peer.to_canonical();
    let trusted = |ip: &IpAddr| proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // Past a hop that is not an address, nothing to the left can be
        // believed: the last trusted hop is the best we know.
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !trusted(&ip) {
            return ip;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .or_else(|_| raw.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The block an address belongs to: an IPv4 /24 or an IPv6 /64 (what one
/// household, or one cheap server, usually holds).
pub fn network(ip: IpAddr) -> IpNet {
    let prefix = match ip {
        IpAddr::V4(_) => 24,
        IpAddr::V6(_) => 64,
    };
    IpNet::new(ip, prefix).expect("prefix in range").trunc()
}

/// Extractor: the calling client's address (see [`client_ip`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no connection info")))?;
        Ok(Self(client_ip(&state.proxies, &parts.headers, peer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in xff {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let proxies = nets(&["10.0.0.0/8"]);
        let got = client_ip(&proxies, &headers(&["1.2.3.4"]), ip("203.0.113.9"));
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client forged "6.6.6.6"; the edge proxy appended the real
        // address, the inner proxy appended the edge's.
        let h = headers(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(client_ip(&proxies, &h, ip("127.0.0.1")), ip("198.51.100.7"));
        // Only proxies: the leftmost hop is all we have.
        let h = headers(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(client_ip(&proxies, &h, ip("127.0.0.1")), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(&proxies, &HeaderMap::new(), ip("10.0.0.1")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn garbage_and_ports_in_the_header() {
        let proxies = nets(&["127.0.0.1/32"]);
        let h = headers(&["198.51.100.7:4711"]);
        assert_eq!(client_ip(&proxies, &h, ip("127.0.0.1")), ip("198.51.100.7"));
        let h = headers(&["[2001:db8::1]:443"]);
        assert_eq!(client_ip(&proxies, &h, ip("127.0.0.1")), ip("2001:db8::1"));
        let h = headers(&["1.2.3.4, not-an-address"]);
        assert_eq!(client_ip(&proxies, &h, ip("127.0.0.1")), ip("127.0.0.1"));
        // An IPv4 peer seen on an IPv6 socket is still the IPv4 address.
        assert_eq!(
            client_ip(&proxies, &HeaderMap::new(), ip("::ffff:127.0.0.1")),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        assert_eq!(network(ip("203.0.113.77")).to_string(), "203.0.113.0/24");
        assert_eq!(
            network(ip("2001:db8:1:2:3:4:5:6")).to_string(),
            "2001:db8:1:2::/64"
        );
    }
}
