//! A minimal TURN client (RFC 8656) for the test peer: one UDP allocation
//! with long-term credentials, a permission for the peer's address, and
//! Send/Data indications to carry the peer's datagrams. Enough to prove media
//! flows through a real coturn with relay-only candidates.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;
use tokio::net::UdpSocket;

use super::TestError;

const MAGIC: u32 = 0x2112_A442;

const ALLOCATE: u16 = 0x0003;
const CREATE_PERMISSION: u16 = 0x0008;
const SEND_INDICATION: u16 = 0x0016;
const DATA_INDICATION: u16 = 0x0017;
const SUCCESS: u16 = 0x0100;
const ERROR: u16 = 0x0110;

const ATTR_USERNAME: u16 = 0x0006;
const ATTR_MESSAGE_INTEGRITY: u16 = 0x0008;
const ATTR_ERROR_CODE: u16 = 0x0009;
const ATTR_XOR_PEER_ADDRESS: u16 = 0x0012;
const ATTR_DATA: u16 = 0x0013;
const ATTR_REALM: u16 = 0x0014;
const ATTR_NONCE: u16 = 0x0015;
const ATTR_XOR_RELAYED_ADDRESS: u16 = 0x0016;
const ATTR_REQUESTED_TRANSPORT: u16 = 0x0019;

/// TURN server and credentials (as `GET /api/media/ice-servers` hands out).
#[derive(Debug, Clone)]
pub struct TurnConfig {
    /// The TURN server's UDP address.
    pub server: SocketAddr,
    /// The TURN REST username (`expiry:userId`).
    pub username: String,
    /// The TURN REST credential.
    pub credential: String,
}

/// An allocation on a TURN server.
pub(super) struct Allocation {
    /// The relayed transport address: what the peer announces.
    pub relayed: SocketAddr,
    pub server: SocketAddr,
}

struct Auth {
    username: String,
    realm: String,
    nonce: String,
    key: [u8; 16],
}

/// Allocates a relay and permits `peer_ip` to reach it.
pub(super) async fn allocate(
    socket: &UdpSocket,
    config: &TurnConfig,
    peer_ip: IpAddr,
) -> Result<Allocation, TestError> {
    let transport = [17u8, 0, 0, 0]; // UDP
    let first = request(
        socket,
        config.server,
        ALLOCATE,
        &[(ATTR_REQUESTED_TRANSPORT, &transport)],
        None,
    )
    .await?;
    if first.class() != ERROR || first.error_code() != Some(401) {
        return Err("the TURN server did not ask for credentials".into());
    }
    let realm = first.text(ATTR_REALM).ok_or("no REALM")?;
    let nonce = first.text(ATTR_NONCE).ok_or("no NONCE")?;
    let key: [u8; 16] =
        Md5::digest(format!("{}:{}:{}", config.username, realm, config.credential).as_bytes())
            .into();
    let auth = Auth {
        username: config.username.clone(),
        realm,
        nonce,
        key,
    };
    let allocated = request(
        socket,
        config.server,
        ALLOCATE,
        &[(ATTR_REQUESTED_TRANSPORT, &transport)],
        Some(&auth),
    )
    .await?;
    if allocated.class() != SUCCESS {
        return Err(format!("Allocate refused: {:?}", allocated.error_code()).into());
    }
    let relayed = allocated
        .xor_address(ATTR_XOR_RELAYED_ADDRESS)
        .ok_or("no XOR-RELAYED-ADDRESS")?;
    let peer = xor_address_value(SocketAddr::new(peer_ip, 0));
    let permitted = request(
        socket,
        config.server,
        CREATE_PERMISSION,
        &[(ATTR_XOR_PEER_ADDRESS, &peer)],
        Some(&auth),
    )
    .await?;
    if permitted.class() != SUCCESS {
        return Err(format!("CreatePermission refused: {:?}", permitted.error_code()).into());
    }
    Ok(Allocation {
        relayed,
        server: config.server,
    })
}

/// A Send indication carrying `data` to `peer` through the relay.
pub(super) fn send_indication(peer: SocketAddr, data: &[u8]) -> Vec<u8> {
    encode(
        SEND_INDICATION,
        [0; 12],
        &[
            (ATTR_XOR_PEER_ADDRESS, &xor_address_value(peer)),
            (ATTR_DATA, data),
        ],
        None,
    )
}

/// The peer and payload of a Data indication, if `datagram` is one.
pub(super) fn data_indication(datagram: &[u8]) -> Option<(SocketAddr, Vec<u8>)> {
    let msg = Message::parse(datagram)?;
    if msg.kind != DATA_INDICATION {
        return None;
    }
    Some((
        msg.xor_address(ATTR_XOR_PEER_ADDRESS)?,
        msg.attr(ATTR_DATA)?.to_vec(),
    ))
}

async fn request(
    socket: &UdpSocket,
    server: SocketAddr,
    kind: u16,
    attrs: &[(u16, &[u8])],
    auth: Option<&Auth>,
) -> Result<Message, TestError> {
    let txid: [u8; 12] = rand_txid();
    let packet = encode(kind, txid, attrs, auth);
    let mut buf = vec![0u8; 2048];
    for _ in 0..5 {
        socket.send_to(&packet, server).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Ok(Ok((n, _))) =
            tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
        {
            if let Some(msg) = buf.get(..n).and_then(Message::parse)
                && msg.txid == txid
            {
                return Ok(msg);
            }
        }
    }
    Err("the TURN server did not answer".into())
}

fn rand_txid() -> [u8; 12] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut txid = [0u8; 12];
    txid[..8].copy_from_slice(&n.to_be_bytes());
    txid[8..].copy_from_slice(&std::process::id().to_be_bytes());
    txid
}

fn encode(kind: u16, txid: [u8; 12], attrs: &[(u16, &[u8])], auth: Option<&Auth>) -> Vec<u8> {
    let mut body = Vec::new();
    let push = |body: &mut Vec<u8>, t: u16, v: &[u8]| {
        body.extend_from_slice(&t.to_be_bytes());
        body.extend_from_slice(&(v.len() as u16).to_be_bytes());
        body.extend_from_slice(v);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
    };
    for (t, v) in attrs {
        push(&mut body, *t, v);
    }
    if let Some(auth) = auth {
        push(&mut body, ATTR_USERNAME, auth.username.as_bytes());
        push(&mut body, ATTR_REALM, auth.realm.as_bytes());
        push(&mut body, ATTR_NONCE, auth.nonce.as_bytes());
    }
    let header = |len: usize| {
        let mut h = Vec::with_capacity(20);
        h.extend_from_slice(&kind.to_be_bytes());
        h.extend_from_slice(&(len as u16).to_be_bytes());
        h.extend_from_slice(&MAGIC.to_be_bytes());
        h.extend_from_slice(&txid);
        h
    };
    let Some(auth) = auth else {
        let mut out = header(body.len());
        out.extend_from_slice(&body);
        return out;
    };
    // MESSAGE-INTEGRITY covers the message with its length already counting
    // the 24-byte attribute (RFC 8489 §14.5).
    let mut signed = header(body.len() + 24);
    signed.extend_from_slice(&body);
    let mut mac = Hmac::<Sha1>::new_from_slice(&auth.key).expect("HMAC takes any key");
    mac.update(&signed);
    let digest = mac.finalize().into_bytes();
    signed.extend_from_slice(&ATTR_MESSAGE_INTEGRITY.to_be_bytes());
    signed.extend_from_slice(&20u16.to_be_bytes());
    signed.extend_from_slice(&digest);
    signed
}

fn xor_address_value(addr: SocketAddr) -> Vec<u8> {
    let mut v = vec![0u8, 0x01];
    v.extend_from_slice(&(addr.port() ^ (MAGIC >> 16) as u16).to_be_bytes());
    match addr.ip() {
        IpAddr::V4(ip) => v.extend_from_slice(&(u32::from(ip) ^ MAGIC).to_be_bytes()),
        IpAddr::V6(_) => v[1] = 0x02, // not used by the tests
    }
    v
}

struct Message {
    kind: u16,
    txid: [u8; 12],
    attrs: Vec<(u16, Vec<u8>)>,
}

impl Message {
    fn parse(data: &[u8]) -> Option<Self> {
        if data.len() < 20 || data[0] & 0xC0 != 0 {
            return None;
        }
        let kind = u16::from_be_bytes([data[0], data[1]]);
        let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        if u32::from_be_bytes([data[4], data[5], data[6], data[7]]) != MAGIC
            || data.len() < 20 + len
        {
            return None;
        }
        let txid: [u8; 12] = data[8..20].try_into().ok()?;
        let mut attrs = Vec::new();
        let mut rest = &data[20..20 + len];
        while rest.len() >= 4 {
            let t = u16::from_be_bytes([rest[0], rest[1]]);
            let l = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            let value = rest.get(4..4 + l)?.to_vec();
            attrs.push((t, value));
            let padded = (4 + l).div_ceil(4) * 4;
            rest = rest.get(padded..).unwrap_or(&[]);
        }
        Some(Self { kind, txid, attrs })
    }

    fn class(&self) -> u16 {
        self.kind & 0x0110
    }

    fn attr(&self, t: u16) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| v.as_slice())
    }

    fn text(&self, t: u16) -> Option<String> {
        self.attr(t)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    fn error_code(&self) -> Option<u16> {
        let v = self.attr(ATTR_ERROR_CODE)?;
        Some(u16::from(*v.get(2)? & 0x07) * 100 + u16::from(*v.get(3)?))
    }

    fn xor_address(&self, t: u16) -> Option<SocketAddr> {
        let v = self.attr(t)?;
        if v.len() < 8 || v[1] != 0x01 {
            return None;
        }
        let port = u16::from_be_bytes([v[2], v[3]]) ^ (MAGIC >> 16) as u16;
        let ip = u32::from_be_bytes([v[4], v[5], v[6], v[7]]) ^ MAGIC;
        Some(SocketAddr::new(IpAddr::V4(ip.into()), port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indications_round_trip() {
        let peer: SocketAddr = "127.0.0.1:8189".parse().unwrap();
        let mut packet = send_indication(peer, b"hello");
        // A Data indication has the same layout with another type.
        packet[..2].copy_from_slice(&DATA_INDICATION.to_be_bytes());
        assert_eq!(data_indication(&packet), Some((peer, b"hello".to_vec())));
        assert_eq!(data_indication(b"not stun at all, too short?"), None);
    }
}
