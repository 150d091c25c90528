/**
 * The media of one private session for one page, signaled through
 * Socket.IO and independent of React (like the room's `ViewerSession`):
 *
 * 1. `private:join {sessionId}`: this page counts as the party's presence
 *    (the server ends a session whose party stays away past its grace);
 * 2. `private:publish`: this party's camera and microphone, our offer in,
 *    the SFU's answer back (`createPublishOffer`, send-only);
 * 3. `private:view` / `private:answer`: the SFU offers the other party's
 *    stream and the browser answers at once; the ICE-lite SFU finds the
 *    browser's addresses from its checks, so candidates are not trickled.
 *
 * Viewing does not wait for the other party: the SFU's offer has its
 * audio and video from the start, and their media flows into it whenever
 * they publish (no renegotiation). Publishing waits for the camera.
 */
import type { PrivateSession } from '@/types/api';
import { emitWithAck } from '@/lib/socket';
import { answerOffer, createPublishOffer, describeSignalingError } from '@/lib/webrtc';

export type CallState = {
  /** `private:join` was acknowledged. */
  joined: boolean;
  /** Our camera to the SFU. */
  sending: 'idle' | 'connecting' | 'connected' | 'failed';
  /** The other party's stream from the SFU. */
  receiving: 'connecting' | 'connected' | 'failed';
  remote: MediaStream | null;
  error: string | null;
};

const INITIAL: CallState = { joined: false, sending: 'idle', receiving: 'connecting', remote: null, error: null };

export class PrivateCall {
  state: CallState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private closed = false;
  private sender: RTCPeerConnection | null = null;
  private receiver: RTCPeerConnection | null = null;
  private readonly joined: Promise<PrivateSession | null>;

  /**
   * Joins at once and starts viewing. `onSession` gets the session the join
   * answered; `onRefused` a refusal of the join (not a party, not active).
   */
  constructor(
    readonly sessionId: string,
    private readonly iceServers: Promise<RTCIceServer[]>,
    private readonly handlers: {
      onSession?: (session: PrivateSession) => void;
      onRefused?: (error: unknown) => void;
    } = {},
  ) {
    this.joined = this.join();
    this.view().catch((error: unknown) => this.fail('receiving', error));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends `stream` (camera and microphone); a second call replaces the tracks without renegotiating. */
  async publish(stream: MediaStream): Promise<void> {
    if (this.closed) return;
    if (this.sender) {
      await Promise.all(
        this.sender.getSenders().map((sender) => {
          const next = stream.getTracks().find((t) => t.kind === sender.track?.kind);
          return next ? sender.replaceTrack(next) : Promise.resolve();
        }),
      );
      return;
    }
    this.set({ sending: 'connecting' });
    try {
      const [servers, session] = await Promise.all([this.iceServers, this.joined]);
      if (this.closed || !session) return;
      const pc = new RTCPeerConnection({ iceServers: servers });
      this.sender = pc;
      pc.addEventListener('connectionstatechange', () => {
        if (this.sender !== pc) return;
        if (pc.connectionState === 'connected') this.set({ sending: 'connected' });
        if (pc.connectionState === 'failed') this.fail('sending', new Error('Your camera could not reach the server.'));
      });
      const offer = await createPublishOffer(pc, stream);
      if (this.closed) return;
      const { sdp } = await emitWithAck('private:publish', { sessionId: this.sessionId, sdp: offer });
      if (this.closed) return;
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (error) {
      this.fail('sending', error);
    }
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.sender?.close();
    this.receiver?.close();
  }

  private set(patch: Partial<CallState>): void {
    if (this.closed) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private fail(which: 'sending' | 'receiving', error: unknown): void {
    this.set({ [which]: 'failed', error: describeSignalingError(error) });
  }

  private async join(): Promise<PrivateSession | null> {
    try {
      const { session } = await emitWithAck('private:join', { sessionId: this.sessionId });
      if (this.closed) return null;
      this.set({ joined: true });
      this.handlers.onSession?.(session);
      return session;
    } catch (error) {
      if (!this.closed) this.handlers.onRefused?.(error);
      throw error;
    }
  }

  private async view(): Promise<void> {
    const [servers] = await Promise.all([this.iceServers, this.joined]);
    if (this.closed) return;
    const { sdp: offer } = await emitWithAck('private:view', { sessionId: this.sessionId });
    if (this.closed) return;
    const pc = new RTCPeerConnection({ iceServers: servers });
    this.receiver = pc;
    // A track without a stream (no `msid`) goes into one of our own.
    let remote: MediaStream | null = null;
    pc.addEventListener('track', (event) => {
      let stream = event.streams[0];
      if (!stream) {
        remote ??= new MediaStream();
        remote.addTrack(event.track);
        stream = remote;
      }
      this.set({ remote: stream });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.receiver !== pc) return;
      if (pc.connectionState === 'connected') this.set({ receiving: 'connected' });
      if (pc.connectionState === 'failed') this.fail('receiving', new Error('The video connection was lost.'));
    });
    const answer = await answerOffer(pc, offer);
    if (this.closed) return;
    await emitWithAck('private:answer', { sessionId: this.sessionId, sdp: answer });
  }
}
