import { describe, expect, it } from 'vitest';

import { outgoingStats, outgoingVideoSample } from '@/lib/broadcast/stats';

const report = (entries: object[]) => new Map(entries.map((e, i) => [String(i), e])) as unknown as RTCStatsReport;

describe('outgoing stream stats', () => {
  it('reads the video outbound-rtp entry and ignores audio and inbound entries', () => {
    const sample = outgoingVideoSample(
      report([
        { type: 'outbound-rtp', kind: 'audio', bytesSent: 999, timestamp: 1000 },
        { type: 'inbound-rtp', kind: 'video', bytesReceived: 5, timestamp: 1000 },
        { type: 'outbound-rtp', kind: 'video', bytesSent: 1000, timestamp: 1000, framesPerSecond: 29.7 },
      ]),
    );
    expect(sample).toEqual({ bytesSent: 1000, timestamp: 1000, framesPerSecond: 29.7 });
  });

  it('has no sample before anything is sent', () => {
    expect(outgoingVideoSample(report([{ type: 'transport' }]))).toBeNull();
  });

  it('turns two samples into kilobits per second and whole frames per second', () => {
    const stats = outgoingStats(
      { bytesSent: 0, timestamp: 1_000, framesPerSecond: null },
      { bytesSent: 250_000, timestamp: 3_000, framesPerSecond: 29.7 },
    );
    expect(stats).toEqual({ bitrateKbps: 1000, fps: 30 });
  });

  it('gives nothing when the counter restarted or no time passed', () => {
    expect(outgoingStats({ bytesSent: 10, timestamp: 1, framesPerSecond: 1 }, { bytesSent: 5, timestamp: 2, framesPerSecond: 1 })).toBeNull();
    expect(outgoingStats({ bytesSent: 1, timestamp: 2, framesPerSecond: 1 }, { bytesSent: 5, timestamp: 2, framesPerSecond: 1 })).toBeNull();
  });
});
