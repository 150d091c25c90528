//! Owns the floor benchmark: what it costs, at the least, to SRTP-protect
//! and send one forwarded packet on this machine. A sender thread (pinned
//! to the SFU's CPU) seals ~1,150-byte RTP payloads with the cipher str0m
//! negotiates between str0m peers (AEAD AES-256-GCM, through str0m's own
//! crypto provider) and sends them round-robin to many loopback sockets,
//! one `sendto` per packet or `sendmmsg` batches; a drain thread (pinned to
//! the tool's CPU) reads them. The sender's own CPU time per packet is the
//! floor; crypto-only and send-only runs split it.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::report::{self, Progress, Report, round3};

/// RTP header (12 bytes) plus a one-byte-header extension block, like
/// str0m writes (transport-wide sequence number and friends).
const HEADER: usize = 24;
const PAYLOAD: usize = 1_150;
const TAG: usize = 16;
const PACKET: usize = HEADER + PAYLOAD + TAG;

/// Arguments of `floor`.
#[derive(clap::Args)]
pub struct Args {
    /// Packets per measured run.
    #[arg(long, default_value_t = 1_000_000)]
    packets: usize,
    /// Destination sockets (subscribers).
    #[arg(long, default_value_t = 500)]
    destinations: usize,
    /// Packets per `sendmmsg` call in the batched run.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// CPU for the sender (the SFU's CPU in `fanout`).
    #[arg(long, default_value_t = 0)]
    sender_cpu: usize,
    /// CPU for the drain thread.
    #[arg(long, default_value_t = 1)]
    drain_cpu: usize,
}

impl Args {
    /// A tiny run for CI.
    pub fn smoke() -> Self {
        Self {
            packets: 2_000,
            destinations: 4,
            batch: 8,
            sender_cpu: 0,
            drain_cpu: 1,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    CryptoOnly,
    SendOnly { batch: usize },
    Both { batch: usize },
}

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::CryptoOnly => "seal only".into(),
            Mode::SendOnly { batch } => format!("send only, batch {batch}"),
            Mode::Both { batch } => format!("seal + send, batch {batch}"),
        }
    }
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs the benchmark.
pub fn run(args: Args) -> anyhow::Result<Report> {
    let progress = Progress::new("floor");
    anyhow::ensure!(
        args.destinations > 0 && args.batch > 0,
        "nothing to send to"
    );
    let receivers: Vec<std::net::UdpSocket> = (0..args.destinations)
        .map(|_| {
            let s = std::net::UdpSocket::bind("127.0.0.1:0")?;
            s.set_nonblocking(true)?;
            Ok(s)
        })
        .collect::<std::io::Result<_>>()?;
    let addrs: Vec<SocketAddr> = receivers
        .iter()
        .map(|s| s.local_addr())
        .collect::<std::io::Result<_>>()?;

    let stop = Arc::new(AtomicBool::new(false));
    let drain = {
        let stop = stop.clone();
        let cpu = args.drain_cpu;
        std::thread::spawn(move || drain_loop(receivers, cpu, &stop))
    };

    let modes = [
        Mode::CryptoOnly,
        Mode::SendOnly { batch: 1 },
        Mode::Both { batch: 1 },
        Mode::SendOnly { batch: args.batch },
        Mode::Both { batch: args.batch },
    ];
    let sender = {
        let addrs = addrs.clone();
        let packets = args.packets;
        let cpu = args.sender_cpu;
        let progress = progress.clone();
        std::thread::spawn(move || -> anyhow::Result<Vec<(Mode, Duration, Duration)>> {
            report::pin_to_cpu(cpu)?;
            let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
            let mut results = Vec::new();
            for mode in modes {
                progress.say(format!("{} × {packets}", mode.name()));
                let (cpu, wall) = send_run(&socket, &addrs, packets, mode)?;
                results.push((mode, cpu, wall));
            }
            Ok(results)
        })
    };
    let results = sender
        .join()
        .map_err(|_| anyhow::anyhow!("sender thread panicked"))??;
    stop.store(true, Ordering::Relaxed);
    let drained = drain
        .join()
        .map_err(|_| anyhow::anyhow!("drain thread panicked"))??;

    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for (mode, cpu, wall) in &results {
        let per_packet_us = cpu.as_secs_f64() * 1e6 / args.packets as f64;
        let per_second = args.packets as f64 / cpu.as_secs_f64();
        summary.push(format!(
            "{:<24} {:>6.3} µs/packet of CPU → {:>9.0} packets/s on one core",
            mode.name(),
            per_packet_us,
            per_second
        ));
        rows.push(json!({
            "mode": mode.name(),
            "cpuMicrosPerPacket": round3(per_packet_us),
            "packetsPerCpuSecond": per_second.round(),
            "wallSeconds": round3(wall.as_secs_f64()),
        }));
    }
    summary.push(format!("drain thread read {drained} datagrams"));
    Ok(Report {
        benchmark: "floor",
        params: json!({
            "packets": args.packets,
            "destinations": args.destinations,
            "batch": args.batch,
            "packetBytes": PACKET,
            "cipher": "AEAD_AES_256_GCM (str0m's aws-lc-rs provider)",
            "senderCpu": args.sender_cpu,
            "drainCpu": args.drain_cpu,
        }),
        results: json!({ "runs": rows, "drained": drained }),
        summary,
    })
}

/// Seals and/or sends `packets` packets round-robin to `addrs`; returns the
/// thread's CPU time and the wall time.
fn send_run(
    socket: &std::net::UdpSocket,
    addrs: &[SocketAddr],
    packets: usize,
    mode: Mode,
) -> anyhow::Result<(Duration, Duration)> {
    let provider = str0m::crypto::from_feature_flags();
    let mut cipher = provider
        .srtp_provider
        .aead_aes_256_gcm()
        .create_cipher([7u8; 32], true);
    let batch = match mode {
        Mode::CryptoOnly => 1,
        Mode::SendOnly { batch } | Mode::Both { batch } => batch,
    };
    let payload = vec![0x5au8; PAYLOAD];
    let mut bufs = vec![[0u8; PACKET]; batch];
    for buf in &mut bufs {
        buf[0] = 0x90; // V=2, X=1.
        buf[1] = 96;
    }
    let sockaddrs: Vec<(libc::sockaddr_in, libc::socklen_t)> =
        addrs.iter().map(to_sockaddr).collect();
    let fd = socket.as_raw_fd();
    let cpu0 = thread_cpu();
    let wall0 = Instant::now();
    let mut sent = 0usize;
    let mut seq: u16 = 0;
    while sent < packets {
        let n = batch.min(packets - sent);
        for (i, buf) in bufs.iter_mut().take(n).enumerate() {
            seq = seq.wrapping_add(1);
            buf[2..4].copy_from_slice(&seq.to_be_bytes());
            if mode != (Mode::SendOnly { batch }) {
                let mut iv = [0u8; 12];
                iv[10..12].copy_from_slice(&seq.to_be_bytes());
                iv[0] = i as u8;
                let (header, body) = buf.split_at_mut(HEADER);
                cipher
                    .encrypt(&iv, header, &payload, body)
                    .map_err(|e| anyhow::anyhow!("seal: {e:?}"))?;
            }
        }
        if mode != Mode::CryptoOnly {
            send_batch(fd, &bufs[..n], &sockaddrs, sent)?;
        }
        sent += n;
    }
    Ok((thread_cpu() - cpu0, wall0.elapsed()))
}

fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_in, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_in is valid.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    if let SocketAddr::V4(v4) = addr {
        sa.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
    }
    (
        sa,
        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
    )
}

/// One `sendto`, or one `sendmmsg` for the whole batch; packet k of the
/// run goes to destination k mod N.
fn send_batch(
    fd: i32,
    bufs: &[[u8; PACKET]],
    addrs: &[(libc::sockaddr_in, libc::socklen_t)],
    first: usize,
) -> anyhow::Result<()> {
    let dest = |i: usize| &addrs[(first + i) % addrs.len()];
    if bufs.len() == 1 {
        let (sa, len) = dest(0);
        // SAFETY: buffer and address outlive the call.
        let r = unsafe {
            libc::sendto(
                fd,
                bufs[0].as_ptr().cast(),
                PACKET,
                0,
                (sa as *const libc::sockaddr_in).cast(),
                *len,
            )
        };
        anyhow::ensure!(r >= 0, "sendto: {}", std::io::Error::last_os_error());
        return Ok(());
    }
    let mut iovs: Vec<libc::iovec> = bufs
        .iter()
        .map(|b| libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: PACKET,
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .enumerate()
        .map(|(i, iov)| {
            let (sa, len) = dest(i);
            // SAFETY: an all-zero mmsghdr is valid; pointers set below.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_name = (sa as *const libc::sockaddr_in) as *mut libc::c_void;
            m.msg_hdr.msg_namelen = *len;
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            m
        })
        .collect();
    let mut done = 0;
    while done < msgs.len() {
        // SAFETY: every header points at live buffers and addresses.
        let r =
            unsafe { libc::sendmmsg(fd, msgs[done..].as_mut_ptr(), (msgs.len() - done) as u32, 0) };
        anyhow::ensure!(r > 0, "sendmmsg: {}", std::io::Error::last_os_error());
        done += r as usize;
    }
    Ok(())
}

/// Reads every receiver until told to stop; returns datagrams read.
fn drain_loop(
    receivers: Vec<std::net::UdpSocket>,
    cpu: usize,
    stop: &AtomicBool,
) -> anyhow::Result<u64> {
    report::pin_to_cpu(cpu)?;
    let mut poll = mio::Poll::new()?;
    let mut sockets: Vec<mio::net::UdpSocket> = receivers
        .into_iter()
        .map(mio::net::UdpSocket::from_std)
        .collect();
    for (i, s) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(s, mio::Token(i), mio::Interest::READABLE)
            .context("register receiver")?;
    }
    let mut events = mio::Events::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let mut count = 0u64;
    while !stop.load(Ordering::Relaxed) {
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for event in &events {
            let socket = &sockets[event.token().0];
            while socket.recv_from(&mut buf).is_ok() {
                count += 1;
            }
        }
    }
    Ok(count)
}
