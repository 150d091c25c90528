/**
 * One viewer connection to a room's stream, signaled through Socket.IO and
 * independent of React: `media:view` answers with the server's SDP offer,
 * the browser answers at once with `media:answer` and trickles its
 * candidates with `media:ice` (the ICE-lite SFU does not need them); a later
 * `media:offer` is a renegotiation, answered on the same connection.
 *
 * Outside React so the Pay click's answer can start it at once (issue 23):
 * `prepareViewerSession` runs as the payment answers, in parallel with the
 * room join, and the player (`useViewerStream`) adopts it when it mounts
 * rather than waiting for the page to re-render, then asking.
 *
 * When the server's media plane is MediaMTX (docs/mediamtx.md) the viewer
 * plays over WHEP instead: its own offer, with a media token, to MediaMTX;
 * closing DELETEs that session.
 */
import type { QueryClient } from '@tanstack/react-query';

import { ViewerE2ee } from '@/features/room/api/viewer-e2ee';
import { detectE2eeSupport } from '@/lib/e2ee/cryptor';
import { markPayStep } from '@/lib/pay-timeline';
import { queryKeys } from '@/lib/query-keys';
import { emitWithAck, getSocket, type ServerEvents } from '@/lib/socket';
import {
  answerOffer,
  createReceiveOffer,
  describeSignalingError,
  loadMediaConfig,
  onIceCandidate,
  type MediaBackend,
} from '@/lib/webrtc';
import { startMediamtxSession } from '@/lib/whip-mediamtx';
import type { Room } from '@/types/api';

export type ViewerState = {
  /** `reconnecting`: the connection dropped for a moment (ICE `disconnected`); the picture resumes by itself. */
  status: 'connecting' | 'playing' | 'reconnecting' | 'failed';
  stream: MediaStream | null;
  error: string | null;
};

export class ViewerSession {
  state: ViewerState = { status: 'connecting', stream: null, error: null };
  private readonly listeners = new Set<() => void>();
  private pc: RTCPeerConnection | null = null;
  private closed = false;
  // Candidates gathered before the answer went wait for it (RFC 8838 §4.4: in order).
  private answered = false;
  private readonly early: Array<RTCIceCandidateInit | null> = [];
  /** Ends the MediaMTX session, when playing there. */
  private remoteStop: (() => Promise<void>) | null = null;

  constructor(
    readonly roomId: string,
    media: Promise<{ iceServers: RTCIceServer[]; backend: MediaBackend }>,
    /** In an E2EE room: the page's keys and frame worker (owned by this session). */
    readonly e2ee: ViewerE2ee | null = null,
  ) {
    // Both at once: the ICE servers are usually cached already (the pay gate loads them).
    this.start(media).catch((error: unknown) => this.fail(error));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    getSocket().off('media:offer', this.onOffer);
    this.pc?.close();
    void this.remoteStop?.();
    this.remoteStop = null;
    this.e2ee?.close();
  }

  private set(state: ViewerState): void {
    if (this.closed) return;
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  private fail(error: unknown): void {
    this.set({ status: 'failed', stream: null, error: describeSignalingError(error) });
  }

  private trickle = (candidate: RTCIceCandidateInit | null): void => {
    emitWithAck('media:ice', { roomId: this.roomId, candidate }).catch(() => undefined);
  };

  private onOffer = ({ roomId, sdp }: ServerEvents['media:offer']): void => {
    if (roomId === this.roomId && this.pc) this.negotiate(sdp).catch((error: unknown) => this.fail(error));
  };

  private async negotiate(offerSdp: string): Promise<void> {
    if (!this.pc || this.closed) return;
    const sdp = await answerOffer(this.pc, offerSdp);
    if (this.closed) return;
    markPayStep(this.roomId, 'answerSent');
    await emitWithAck('media:answer', { roomId: this.roomId, sdp });
    markPayStep(this.roomId, 'answered');
    if (!this.answered && !this.closed) {
      this.answered = true;
      this.early.splice(0).forEach(this.trickle);
    }
  }

  private async start(media: Promise<{ iceServers: RTCIceServer[]; backend: MediaBackend }>): Promise<void> {
    const { iceServers: servers, backend } = await media;
    if (backend === 'mediamtx') return this.startWhep(servers);
    const { sdp } = await emitWithAck('media:view', { roomId: this.roomId });
    markPayStep(this.roomId, 'offer');
    if (this.closed) return;
    const pc = this.connect(servers);
    onIceCandidate(pc, (candidate) => {
      if (this.closed) return;
      if (this.answered) this.trickle(candidate);
      else this.early.push(candidate);
    });
    getSocket().on('media:offer', this.onOffer);
    await this.negotiate(sdp);
  }

  /** WHEP on MediaMTX: this browser offers, MediaMTX answers. */
  private async startWhep(servers: RTCIceServer[]): Promise<void> {
    const pc = this.connect(servers);
    const offer = await createReceiveOffer(pc);
    if (this.closed) return;
    const remote = await startMediamtxSession(pc, this.roomId, 'read', offer);
    if (this.closed) {
      void remote.stop();
      return;
    }
    this.remoteStop = remote.stop;
    markPayStep(this.roomId, 'answered');
    await pc.setRemoteDescription({ type: 'answer', sdp: remote.answer });
  }

  /** The peer connection, playing what arrives. */
  private connect(servers: RTCIceServer[]): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: servers, ...this.e2ee?.cryptor.peerConnectionConfig() });
    this.pc = pc;
    const remote = new MediaStream();
    pc.addEventListener('track', (event) => {
      // Before any frame reaches the decoder: undecryptable frames are dropped, never decoded.
      this.e2ee?.cryptor.attachReceiver(event.receiver);
      const stream = event.streams[0] ?? remote;
      if (!event.streams[0]) remote.addTrack(event.track);
      this.set({ status: 'playing', stream, error: null });
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') {
        markPayStep(this.roomId, 'iceConnected');
      }
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') this.fail(new Error('The video connection was lost.'));
      // A moment's loss (W3C webrtc-pc §4.3.3: `disconnected` may recover by itself): keep the picture, say so.
      else if (pc.connectionState === 'disconnected' && this.state.status === 'playing') {
        this.set({ ...this.state, status: 'reconnecting' });
      } else if (pc.connectionState === 'connected' && this.state.status === 'reconnecting') {
        this.set({ ...this.state, status: 'playing' });
      }
    });
    return pc;
  }
}

/**
 * A new session for `roomId`, with its E2EE end when the room (as cached) is
 * end-to-end encrypted; `null` when it is and this browser cannot decrypt.
 */
function newSession(roomId: string, queryClient: QueryClient): ViewerSession | null {
  const room = queryClient.getQueryData<Room>(queryKeys.rooms.detail(roomId));
  let e2ee: ViewerE2ee | null = null;
  if (room?.e2ee) {
    const support = detectE2eeSupport();
    if (!support) return null;
    e2ee = new ViewerE2ee(roomId, support, queryClient);
  }
  return new ViewerSession(roomId, loadMediaConfig(queryClient), e2ee);
}

/** A session started ahead and not adopted within this is closed (the page went elsewhere). */
const UNADOPTED_MS = 15_000;

const prepared = new Map<string, { session: ViewerSession; timer: ReturnType<typeof setTimeout> }>();

/** Starts watching `roomId` now (the payment answered), for the player to adopt. */
export function prepareViewerSession(roomId: string, queryClient: QueryClient): void {
  const old = prepared.get(roomId);
  if (old) {
    clearTimeout(old.timer);
    old.session.close();
  }
  const session = newSession(roomId, queryClient);
  if (!session) return;
  const timer = setTimeout(() => {
    if (prepared.get(roomId)?.session === session) prepared.delete(roomId);
    session.close();
  }, UNADOPTED_MS);
  prepared.set(roomId, { session, timer });
}

/**
 * The session `prepareViewerSession` started for `roomId` (once), or a new
 * one (`null`: an E2EE room this browser cannot decrypt). The caller owns it
 * and closes it. A second `media:view` from the same socket replaces the
 * first on the server, so a session is never shared.
 */
export function openViewerSession(roomId: string, queryClient: QueryClient): ViewerSession | null {
  const ahead = prepared.get(roomId);
  if (ahead) {
    clearTimeout(ahead.timer);
    prepared.delete(roomId);
    return ahead.session;
  }
  return newSession(roomId, queryClient);
}
