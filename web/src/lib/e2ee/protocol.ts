/** The messages between the page and the frame worker (`worker.ts`). */

export type TransformRole = 'encrypt' | 'decrypt';
export type MediaKind = 'audio' | 'video';

/** Passed as `RTCRtpScriptTransform` options, or with the streams in the fallback. */
export type TransformOptions = { role: TransformRole; kind: MediaKind };

export type ToWorker =
  /** A media key (32 bytes) under its id: kept in the ring (the newest 3). */
  | { type: 'setKey'; keyId: number; key: Uint8Array<ArrayBuffer> }
  /** Sender: seal frames with this key from now on (it was set before). */
  | { type: 'useKey'; keyId: number }
  /** The `createEncodedStreams` fallback: the streams of one sender or receiver. */
  | ({ type: 'attach'; readable: ReadableStream<unknown>; writable: WritableStream<unknown> } & TransformOptions);

/** What the worker counts: test diagnostics and the CPU cost figure, never key material. */
export type FrameStats = {
  framesEncrypted: number;
  framesDecrypted: number;
  /** Frames never handed on: no key for their key id, too short, or failed authentication. */
  framesDropped: number;
  /** Of `framesDropped`, those whose key id had no key. */
  framesDroppedNoKey: number;
  /** The key id of the last frame sealed (sender) or opened (receiver). */
  lastKeyId: number | null;
  /** Video frames sealed or opened, and the milliseconds their cryptography took in the worker (waits excluded). */
  videoFrames: number;
  videoMs: number;
  /** The last video frame's size, where the browser tells (`getMetadata`). */
  width: number | null;
  height: number | null;
};

export type FromWorker = { type: 'stats'; stats: FrameStats };

export const EMPTY_STATS: FrameStats = {
  framesEncrypted: 0,
  framesDecrypted: 0,
  framesDropped: 0,
  framesDroppedNoKey: 0,
  lastKeyId: null,
  videoFrames: 0,
  videoMs: 0,
  width: null,
  height: null,
};
