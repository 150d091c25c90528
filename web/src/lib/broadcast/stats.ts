/**
 * The outgoing stream's figures a creator watches (bitrate, frame rate),
 * from two `RTCPeerConnection.getStats()` samples of the video
 * `outbound-rtp` entry (W3C webrtc-stats §5.2 RTCOutboundRtpStreamStats).
 */

export type OutgoingSample = { bytesSent: number; timestamp: number; framesPerSecond: number | null };

export type OutgoingStats = {
  /** Kilobits per second between the two samples. */
  bitrateKbps: number;
  /** Frames per second the encoder sends, as the browser reports it. */
  fps: number | null;
};

type StatsEntry = { type?: string; kind?: string; bytesSent?: number; timestamp?: number; framesPerSecond?: number };

/**
 * The video `outbound-rtp` entry of a report, summed over its simulcast
 * layers (one entry per layer); `null` when there is none yet.
 */
export function outgoingVideoSample(report: RTCStatsReport): OutgoingSample | null {
  let sample: OutgoingSample | null = null;
  report.forEach((value: StatsEntry) => {
    if (value.type !== 'outbound-rtp' || value.kind !== 'video') return;
    sample = {
      bytesSent: (sample?.bytesSent ?? 0) + (value.bytesSent ?? 0),
      timestamp: value.timestamp ?? sample?.timestamp ?? 0,
      framesPerSecond: Math.max(sample?.framesPerSecond ?? 0, value.framesPerSecond ?? 0) || null,
    };
  });
  return sample;
}

/** The figures between two samples; `null` when time did not advance or the counter went back (a new connection). */
export function outgoingStats(previous: OutgoingSample, current: OutgoingSample): OutgoingStats | null {
  const ms = current.timestamp - previous.timestamp;
  const bytes = current.bytesSent - previous.bytesSent;
  if (ms <= 0 || bytes < 0) return null;
  return { bitrateKbps: Math.round((bytes * 8) / ms), fps: current.framesPerSecond === null ? null : Math.round(current.framesPerSecond) };
}
