//! Owns the sending of outgoing datagrams: the core's queue is sent in
//! batches of up to [`BATCH`] with one `sendmmsg` call on Linux, instead of
//! one `sendto` per packet. A full socket buffer drops the datagram (UDP is
//! lossy anyway) rather than stalling every other peer.

use std::net::SocketAddr;

use tokio::net::UdpSocket;

/// Datagrams per `sendmmsg` call.
pub(crate) const BATCH: usize = 64;

/// Send counters.
#[derive(Default)]
pub(crate) struct Outbox {
    /// Datagrams the kernel refused (full buffer, unreachable), since start.
    pub(crate) dropped: u64,
}

impl Outbox {
    /// Sends every datagram of `queue`, in order, and empties it (keeping
    /// its capacity).
    pub(crate) fn flush(&mut self, socket: &UdpSocket, queue: &mut Vec<(SocketAddr, Vec<u8>)>) {
        for batch in queue.chunks(BATCH) {
            self.dropped += send_batch(socket, batch) as u64;
        }
        queue.clear();
    }
}

/// Socket buffer size the SFU asks for (each direction): a keyframe burst
/// to a thousand viewers is several megabytes.
pub(crate) const SOCKET_BUFFER: usize = 8 << 20;

/// Asks for `size`-byte send and receive buffers on a socket: beyond
/// `net.core.{r,w}mem_max` with CAP_NET_ADMIN, else up to those limits
/// (raise them on a media server). Best effort: failures are ignored.
pub fn grow_socket_buffers(socket: &impl std::os::fd::AsRawFd, size: usize) {
    #[cfg(target_os = "linux")]
    {
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        for (forced, plain) in [
            (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
            (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        ] {
            // SAFETY: setsockopt reads a c_int of the given length.
            unsafe {
                let value = (&size as *const libc::c_int).cast();
                let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                let fd = socket.as_raw_fd();
                if libc::setsockopt(fd, libc::SOL_SOCKET, forced, value, len) != 0 {
                    libc::setsockopt(fd, libc::SOL_SOCKET, plain, value, len);
                }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (socket, size);
}

/// Sends a batch; returns how many datagrams were dropped.
#[cfg(target_os = "linux")]
fn send_batch(socket: &UdpSocket, batch: &[(SocketAddr, Vec<u8>)]) -> usize {
    use std::os::fd::AsRawFd;

    debug_assert!(batch.len() <= BATCH);
    // SAFETY: all-zero iovec, mmsghdr and sockaddr_storage values are
    // valid; the pointers stored below point into `batch`, `names` and
    // `iovs`, which outlive the sendmmsg calls.
    unsafe {
        let mut names: [libc::sockaddr_storage; BATCH] = std::mem::zeroed();
        let mut iovs: [libc::iovec; BATCH] = std::mem::zeroed();
        let mut headers: [libc::mmsghdr; BATCH] = std::mem::zeroed();
        for (i, (destination, data)) in batch.iter().enumerate() {
            let name_len = write_sockaddr(*destination, &mut names[i]);
            iovs[i] = libc::iovec {
                iov_base: data.as_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            };
            let header = &mut headers[i].msg_hdr;
            header.msg_name = (&mut names[i] as *mut libc::sockaddr_storage).cast();
            header.msg_namelen = name_len;
            header.msg_iov = &mut iovs[i];
            header.msg_iovlen = 1;
        }
        let fd = socket.as_raw_fd();
        let mut dropped = 0;
        let mut next = 0;
        while next < batch.len() {
            let rest = (batch.len() - next) as libc::c_uint;
            let sent = libc::sendmmsg(fd, headers.as_mut_ptr().add(next), rest, libc::MSG_DONTWAIT);
            if sent > 0 {
                next += sent as usize;
            } else {
                // The datagram at `next` failed (full buffer, ICMP error
                // pending, unreachable): drop it and go on with the rest.
                tracing::trace!(error = %std::io::Error::last_os_error(), "udp send dropped");
                dropped += 1;
                next += 1;
            }
        }
        dropped
    }
}

/// Writes `addr` into `storage`; returns its length.
#[cfg(target_os = "linux")]
fn write_sockaddr(addr: SocketAddr, storage: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe {
                &mut *(storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            sin6.sin6_scope_id = v6.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

/// Sends a batch one datagram at a time (no `sendmmsg` here).
#[cfg(not(target_os = "linux"))]
fn send_batch(socket: &UdpSocket, batch: &[(SocketAddr, Vec<u8>)]) -> usize {
    batch
        .iter()
        .filter(|(destination, data)| socket.try_send_to(data, *destination).is_err())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_reach_every_destination_in_order() {
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("[::1]:0").ok();
        let mut outbox = Outbox::default();
        let mut queue = Vec::new();
        let total = BATCH + 10; // Two sendmmsg calls.
        for i in 0..total {
            queue.push((a.local_addr().unwrap(), vec![i as u8; 100 + i]));
        }
        outbox.flush(&sender, &mut queue);
        assert!(queue.is_empty());
        let mut buf = [0u8; 512];
        for i in 0..total {
            let (n, _) = a.recv_from(&mut buf).unwrap();
            assert_eq!(n, 100 + i);
            assert_eq!(buf[0], i as u8);
        }
        // An IPv4 socket can't reach an IPv6 address: dropped, and the
        // datagrams around it still go.
        if let Some(b) = b {
            queue.push((b.local_addr().unwrap(), vec![1; 10]));
            queue.push((a.local_addr().unwrap(), vec![2; 10]));
            outbox.flush(&sender, &mut queue);
            assert_eq!(outbox.dropped, 1);
            let (n, _) = a.recv_from(&mut buf).unwrap();
            assert_eq!((n, buf[0]), (10, 2));
        }
    }
}
