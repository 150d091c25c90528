/**
 * The page's side of the frame worker: which encoded-transform API the
 * browser has, attaching senders and receivers to the worker, handing it
 * keys, and the counters it reports.
 *
 * `RTCRtpScriptTransform` (WebRTC Encoded Transform) where it exists; else
 * Chromium's older `createEncodedStreams()`, which needs the peer connection
 * made with `encodedInsertableStreams: true`; else no E2EE at all: the page
 * says so rather than showing ciphertext or sending clear frames.
 */
import { EMPTY_STATS, type FrameStats, type FromWorker, type MediaKind, type ToWorker, type TransformRole } from '@/lib/e2ee/protocol';

export type E2eeSupport = 'script-transform' | 'encoded-streams' | null;

type EncodedStreams = { readable: ReadableStream<unknown>; writable: WritableStream<unknown> };
type WithEncodedStreams = { createEncodedStreams?: () => EncodedStreams };

export function detectE2eeSupport(): E2eeSupport {
  if (typeof window === 'undefined' || typeof Worker === 'undefined' || typeof crypto?.subtle === 'undefined') return null;
  if (typeof window.RTCRtpScriptTransform === 'function') return 'script-transform';
  const sender = window.RTCRtpSender?.prototype as WithEncodedStreams | undefined;
  if (sender && typeof sender.createEncodedStreams === 'function') return 'encoded-streams';
  return null;
}

export const E2EE_UNSUPPORTED_MESSAGE =
  'This room is end-to-end encrypted, and this browser cannot decrypt its video. Open it in a recent Chrome, Edge, Safari or Firefox.';

export const E2EE_UNSUPPORTED_PUBLISH_MESSAGE =
  'This room is end-to-end encrypted, and this browser cannot encrypt video frames. Use a recent Chrome, Edge, Safari or Firefox.';

function createWorker(): Worker {
  // Vite bundles the worker as its own chunk.
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'streamshare-e2ee' });
}

let spare: Worker | null = null;

/**
 * Starts a frame worker ahead (an E2EE room's page, before Pay), so the first
 * session does not wait for the worker's script to load and start.
 */
export function prewarmFrameWorker(): void {
  if (!spare && detectE2eeSupport()) spare = createWorker();
}

/** One frame worker for one page's peer connection. */
export class FrameCryptor {
  private readonly worker: Worker;
  private latest: FrameStats = { ...EMPTY_STATS };
  private readonly listeners = new Set<(stats: FrameStats) => void>();
  // A renegotiation can announce a receiver again: it keeps its transform.
  private readonly attached = new WeakSet<RTCRtpSender | RTCRtpReceiver>();

  constructor(readonly support: Exclude<E2eeSupport, null>) {
    this.worker = spare ?? createWorker();
    spare = null;
    this.worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
      if (event.data.type !== 'stats') return;
      this.latest = event.data.stats;
      for (const listener of this.listeners) listener(this.latest);
    });
  }

  /** What the peer connection must be made with for this API. */
  peerConnectionConfig(): RTCConfiguration {
    // Chromium's non-standard flag for `createEncodedStreams`.
    return this.support === 'encoded-streams' ? ({ encodedInsertableStreams: true } as RTCConfiguration) : {};
  }

  private attach(target: RTCRtpSender | RTCRtpReceiver, role: TransformRole, kind: MediaKind): void {
    if (this.attached.has(target)) return;
    this.attached.add(target);
    if (this.support === 'script-transform') {
      target.transform = new RTCRtpScriptTransform(this.worker, { role, kind });
      return;
    }
    const streams = (target as unknown as WithEncodedStreams).createEncodedStreams?.();
    if (!streams) throw new Error('This browser cannot transform encoded frames.');
    const message: ToWorker = { type: 'attach', role, kind, ...streams };
    this.worker.postMessage(message, [streams.readable, streams.writable] as unknown as Transferable[]);
  }

  /** Publisher: seal every frame this sender sends. */
  attachSender(sender: RTCRtpSender): void {
    const kind = sender.track?.kind === 'audio' ? 'audio' : 'video';
    this.attach(sender, 'encrypt', kind);
  }

  /** Viewer: open every frame this receiver gets (frames without a key are dropped). */
  attachReceiver(receiver: RTCRtpReceiver): void {
    this.attach(receiver, 'decrypt', receiver.track.kind === 'audio' ? 'audio' : 'video');
  }

  setKey(keyId: number, key: Uint8Array<ArrayBuffer>): void {
    const message: ToWorker = { type: 'setKey', keyId, key: key.slice() };
    this.worker.postMessage(message);
  }

  /** Publisher: seal with `keyId` from now on. */
  useKey(keyId: number): void {
    const message: ToWorker = { type: 'useKey', keyId };
    this.worker.postMessage(message);
  }

  get stats(): FrameStats {
    return this.latest;
  }

  onStats(listener: (stats: FrameStats) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    this.worker.terminate();
  }
}

/**
 * E2EE rooms send VP8 only: the clear header (docs/e2ee.md "Frame format")
 * is VP8's, and the SFU's key-frame detection reads it. Applied to the
 * publisher's video transceiver before the offer.
 */
export function preferVp8(transceiver: RTCRtpTransceiver): boolean {
  const codecs = RTCRtpSender.getCapabilities?.('video')?.codecs;
  if (!codecs || typeof transceiver.setCodecPreferences !== 'function') return false;
  const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8');
  if (vp8.length === 0) return false;
  // Retransmission and FEC stay allowed; no other video codec.
  const helpers = codecs.filter((c) => /^video\/(rtx|red|ulpfec|flexfec-03)$/i.test(c.mimeType));
  transceiver.setCodecPreferences([...vp8, ...helpers]);
  return true;
}
