/**
 * Stand-ins for the browser media APIs jsdom lacks: a camera
 * (`navigator.mediaDevices`), `RTCPeerConnection`, and `<video>.play()`.
 * Tests drive the fake peer connection's state by hand.
 */
import { vi } from 'vitest';

export type FakeTrack = { kind: 'audio' | 'video'; id: string; stop: ReturnType<typeof vi.fn> };

export type FakeStream = MediaStream & { tracks: FakeTrack[] };

let streamSeq = 0;

/** A camera-and-microphone stream whose tracks record `stop()`. */
export function fakeStream(): FakeStream {
  streamSeq += 1;
  const tracks: FakeTrack[] = [
    { kind: 'video', id: `video-${streamSeq}`, stop: vi.fn() },
    { kind: 'audio', id: `audio-${streamSeq}`, stop: vi.fn() },
  ];
  return {
    id: `stream-${streamSeq}`,
    tracks,
    getTracks: () => tracks,
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
  } as unknown as FakeStream;
}

type FakeSender = { track: { kind: string; enabled: boolean } | null; replaceTrack: ReturnType<typeof vi.fn> };

export class FakePeerConnection extends EventTarget {
  static instances: FakePeerConnection[] = [];
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'complete';
  remoteDescription: RTCSessionDescriptionInit | null = null;
  localDescription: RTCSessionDescriptionInit | null = null;
  closed = false;
  readonly senders: FakeSender[] = [
    { track: { kind: 'video', enabled: true }, replaceTrack: vi.fn(() => Promise.resolve()) },
    { track: { kind: 'audio', enabled: true }, replaceTrack: vi.fn(() => Promise.resolve()) },
  ];

  /** `addTransceiver` calls (a WHEP viewer's receive-only ones). */
  readonly transceivers: Array<{ kind: string; init?: RTCRtpTransceiverInit }> = [];

  constructor(public config?: RTCConfiguration) {
    super();
    FakePeerConnection.instances.push(this);
  }

  /** The offering side (WHIP/WHEP clients). */
  createOffer(): Promise<RTCSessionDescriptionInit> {
    return Promise.resolve({ type: 'offer', sdp: 'v=0 fake offer' });
  }

  addTransceiver(kind: string, init?: RTCRtpTransceiverInit): void {
    this.transceivers.push({ kind, init });
  }

  getConfiguration(): RTCConfiguration {
    return this.config ?? {};
  }

  setConfiguration(config: RTCConfiguration): void {
    this.config = config;
  }

  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = description;
    return Promise.resolve();
  }

  /** The viewer's side: an answer to the server's offer. */
  createAnswer(): Promise<RTCSessionDescriptionInit> {
    return Promise.resolve({ type: 'answer', sdp: 'v=0 fake answer' });
  }

  setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    return Promise.resolve();
  }

  getSenders(): FakeSender[] {
    return this.senders;
  }

  /** What `getStats()` answers: set by a test to drive the studio's outgoing figures. */
  stats: Array<Record<string, unknown>> = [];

  getStats(): Promise<RTCStatsReport> {
    return Promise.resolve(new Map(this.stats.map((entry, i) => [String(i), entry])) as unknown as RTCStatsReport);
  }

  close(): void {
    this.closed = true;
    this.connectionState = 'closed';
  }

  /** What the browser does when ICE/DTLS progress. */
  setConnectionState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }

  setIceConnectionState(state: RTCIceConnectionState): void {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }

  /** The server's media arriving: a `track` event carrying `stream`. */
  receive(stream: MediaStream): void {
    this.dispatchEvent(Object.assign(new Event('track'), { streams: [stream], track: stream.getTracks()[0] }));
  }

  static last(): FakePeerConnection {
    const pc = FakePeerConnection.instances.at(-1);
    if (!pc) throw new Error('No RTCPeerConnection was made.');
    return pc;
  }
}

export type FakeMedia = {
  getUserMedia: ReturnType<typeof vi.fn<(constraints: MediaStreamConstraints) => Promise<MediaStream>>>;
  restore: () => void;
};

/** Installs a camera and a microphone, WebRTC and video playback. */
export function installFakeMedia(): FakeMedia {
  FakePeerConnection.instances = [];
  const getUserMedia = vi.fn((_constraints: MediaStreamConstraints) => Promise.resolve<MediaStream>(fakeStream()));
  const devices = [
    { kind: 'videoinput', deviceId: 'cam-front', label: 'Front camera', groupId: 'g1' },
    { kind: 'videoinput', deviceId: 'cam-usb', label: 'USB camera', groupId: 'g2' },
    { kind: 'audioinput', deviceId: 'mic-1', label: 'Built-in microphone', groupId: 'g1' },
  ];
  const mediaDevices = Object.assign(new EventTarget(), {
    getUserMedia,
    enumerateDevices: () => Promise.resolve(devices),
  });
  Object.defineProperty(navigator, 'mediaDevices', { value: mediaDevices, configurable: true });
  vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
  // jsdom's play() is "not implemented" and returns nothing.
  vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
  return {
    getUserMedia,
    restore: () => {
      Reflect.deleteProperty(navigator, 'mediaDevices');
      vi.unstubAllGlobals();
    },
  };
}
