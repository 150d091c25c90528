/**
 * The frame worker: encrypts (publisher) or decrypts (viewer) every encoded
 * audio and video frame of a page's E2EE peer connection, off the main thread.
 *
 * Frames reach it through `RTCRtpScriptTransform` (the `rtctransform` event,
 * WebRTC Encoded Transform) or, where only Chromium's older API exists,
 * as the streams of `createEncodedStreams()` posted with an `attach` message.
 * One worker serves all of a page's senders, so the audio and video senders
 * share one frame counter: an IV is never used twice under one key.
 */
import {
  clearHeaderLength,
  decryptFrame,
  deriveFrameKey,
  encryptFrame,
  KeyRing,
  readTrailer,
  type FrameKey,
  type FrameKind,
} from '@/lib/e2ee/frame';
import { EMPTY_STATS, type FromWorker, type ToWorker, type TransformOptions } from '@/lib/e2ee/protocol';

type EncodedFrame = {
  data: ArrayBuffer;
  /** Video frames only: 'key' | 'delta' | 'empty'. */
  type?: string;
  getMetadata?: () => { width?: number; height?: number };
};

type ScriptTransformer = {
  readable: ReadableStream<EncodedFrame>;
  writable: WritableStream<EncodedFrame>;
  options: TransformOptions;
  sendKeyFrameRequest?: () => Promise<void>;
};

type WorkerScope = {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  onrtctransform?: ((event: { transformer: ScriptTransformer }) => void) | null;
  postMessage: (message: FromWorker) => void;
};

const scope = self as unknown as WorkerScope;

const ring = new KeyRing(3);
let sendKey: FrameKey | null = null;
let counter = 0n;
const stats = { ...EMPTY_STATS };
let statsDirty = false;
// Receivers whose key frames were dropped for want of a key: asked for one when a key comes.
const videoReceivers = new Set<ScriptTransformer>();
let missedKey = false;

/**
 * Before the page's first key, frames wait for it (up to this long, from the
 * first frame that waited) instead of being dropped: the key frame the SFU
 * sends a new viewer usually arrives before the key does, and dropping it
 * would cost a key-frame round trip to the studio. Once a key is held, a
 * frame under an unknown key id is dropped at once.
 */
const FIRST_KEY_WAIT_MS = 1_500;
let waitingSince: number | null = null;
const keyWaiters = new Set<() => void>();

function waitForFirstKey(): Promise<void> {
  waitingSince ??= performance.now();
  const left = FIRST_KEY_WAIT_MS - (performance.now() - waitingSince);
  if (left <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      keyWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, left);
    keyWaiters.add(done);
  });
}

function frameKind(frame: EncodedFrame, options: TransformOptions): FrameKind | null {
  if (options.kind === 'audio') return 'audio';
  if (frame.type === 'key') return 'key';
  if (frame.type === 'delta') return 'delta';
  return null; // 'empty': nothing to protect
}

/** Whether the frame goes on, and the milliseconds its cryptography took. */
type Outcome = { pass: boolean; ms: number };

async function seal(frame: EncodedFrame, kind: FrameKind): Promise<Outcome> {
  if (!sendKey) return { pass: false, ms: 0 }; // never send a clear frame in an E2EE room
  const started = performance.now();
  const data = new Uint8Array(frame.data);
  const sealed = await encryptFrame(sendKey, counter, data, clearHeaderLength(kind, data.length));
  counter += 1n;
  frame.data = sealed.buffer;
  stats.framesEncrypted += 1;
  stats.lastKeyId = sendKey.keyId;
  return { pass: true, ms: performance.now() - started };
}

async function open(frame: EncodedFrame, kind: FrameKind): Promise<Outcome> {
  const data = new Uint8Array(frame.data);
  const clear = clearHeaderLength(kind, data.length);
  const trailer = readTrailer(data, clear);
  let frameKey = trailer ? ring.get(trailer.keyId) : undefined;
  if (!frameKey && trailer && ring.ids().length === 0) {
    await waitForFirstKey();
    frameKey = ring.get(trailer.keyId);
  }
  if (!frameKey) {
    stats.framesDropped += 1;
    if (trailer) {
      stats.framesDroppedNoKey += 1;
      if (kind !== 'audio') missedKey = true;
    }
    return { pass: false, ms: 0 };
  }
  const started = performance.now();
  try {
    frame.data = (await decryptFrame(frameKey, data, clear)).buffer;
  } catch {
    stats.framesDropped += 1;
    return { pass: false, ms: performance.now() - started };
  }
  stats.framesDecrypted += 1;
  stats.lastKeyId = frameKey.keyId;
  return { pass: true, ms: performance.now() - started };
}

function transformStream(options: TransformOptions): TransformStream<EncodedFrame, EncodedFrame> {
  return new TransformStream({
    async transform(frame, controller) {
      const kind = frameKind(frame, options);
      if (kind === null) {
        controller.enqueue(frame);
        return;
      }
      const { pass, ms } = options.role === 'encrypt' ? await seal(frame, kind) : await open(frame, kind);
      if (options.kind === 'video' && ms > 0) {
        stats.videoFrames += 1;
        stats.videoMs += ms;
        const meta = frame.getMetadata?.();
        if (meta?.width && meta.height) {
          stats.width = meta.width;
          stats.height = meta.height;
        }
      }
      statsDirty = true;
      if (pass) controller.enqueue(frame);
    },
  });
}

function run(readable: ReadableStream<EncodedFrame>, writable: WritableStream<EncodedFrame>, options: TransformOptions) {
  // A closed peer connection ends the pipe with an error; nothing to do then.
  readable.pipeThrough(transformStream(options)).pipeTo(writable).catch(() => undefined);
}

scope.onrtctransform = ({ transformer }) => {
  if (transformer.options.role === 'decrypt' && transformer.options.kind === 'video') videoReceivers.add(transformer);
  run(transformer.readable, transformer.writable, transformer.options);
};

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'setKey': {
      ring.add(await deriveFrameKey(message.keyId, message.key));
      for (const release of [...keyWaiters]) release();
      // A viewer that dropped frames for want of this key: a key frame now
      // rather than at the encoder's next one (WebRTC Encoded Transform §6).
      if (missedKey) {
        missedKey = false;
        for (const receiver of videoReceivers) receiver.sendKeyFrameRequest?.().catch(() => undefined);
      }
      break;
    }
    case 'useKey': {
      const frameKey = ring.get(message.keyId);
      if (frameKey && frameKey !== sendKey) {
        sendKey = frameKey;
        counter = 0n; // a new key: its own counter space
      }
      break;
    }
    case 'attach':
      run(
        message.readable as ReadableStream<EncodedFrame>,
        message.writable,
        { role: message.role, kind: message.kind },
      );
      break;
  }
}

// In order: a `useKey` finds the key its `setKey` derived.
let queue = Promise.resolve();
scope.onmessage = ({ data: message }) => {
  queue = queue.then(() => handle(message)).catch(() => undefined);
};

setInterval(() => {
  if (!statsDirty) return;
  statsDirty = false;
  scope.postMessage({ type: 'stats', stats: { ...stats } });
}, 250);
