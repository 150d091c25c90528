/**
 * A viewer page's end of an end-to-end encrypted room (docs/e2ee.md): the
 * frame worker that decrypts what the receivers get, and the page's keys.
 *
 * The page says `e2ee:hello` (its ECDH public key) as soon as its
 * `room:join` has answered, in parallel with `media:view` rather than after
 * it, and again on `e2ee:ready` (the studio made new keys). Each `e2ee:key`
 * is unwrapped and handed to the worker; frames under a key the page does
 * not hold are dropped, never decoded.
 */
import type { QueryClient } from '@tanstack/react-query';

import { FrameCryptor, type E2eeSupport } from '@/lib/e2ee/cryptor';
import { exposeE2eeDiagnostics } from '@/lib/e2ee/debug';
import { ViewerKeys } from '@/lib/e2ee/viewer-keys';
import { markPayStep } from '@/lib/pay-timeline';
import { roomChannelQueryOptions } from '@/lib/room-channel';
import { emitWithAck, getSocket, type ServerEvents } from '@/lib/socket';
import { describeSignalingError } from '@/lib/webrtc';

export type ViewerE2eeState = {
  /** The creator's safety number, once a key came. */
  safetyNumber: string | null;
  hasKey: boolean;
  /** Why no key came (the server refused the hello), for a person. */
  error: string | null;
};

export class ViewerE2ee {
  readonly cryptor: FrameCryptor;
  private readonly keys: ViewerKeys;
  private readonly listeners = new Set<() => void>();
  private readonly hide: () => void;
  state: ViewerE2eeState = { safetyNumber: null, hasKey: false, error: null };

  constructor(
    readonly roomId: string,
    support: Exclude<E2eeSupport, null>,
    queryClient: QueryClient,
  ) {
    this.cryptor = new FrameCryptor(support);
    this.keys = new ViewerKeys({
      roomId,
      cryptor: this.cryptor,
      sendHello: (publicKey) => emitWithAck('e2ee:hello', { roomId, publicKey }),
      onChange: () => this.update(),
    });
    const socket = getSocket();
    socket.on('e2ee:key', this.onKey);
    socket.on('e2ee:ready', this.onReady);
    this.hide = exposeE2eeDiagnostics({
      role: 'viewer',
      keyIds: () => this.keys.keyIds(),
      currentKeyId: () => this.cryptor.stats.lastKeyId,
      stats: () => this.cryptor.stats,
    });
    // The page's own join (in flight, or answered already): hello right after it.
    queryClient
      .fetchQuery(roomChannelQueryOptions(roomId))
      .then(() => this.keys.hello())
      .catch(() => undefined); // a refused join is the page's to show
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    const socket = getSocket();
    socket.off('e2ee:key', this.onKey);
    socket.off('e2ee:ready', this.onReady);
    this.listeners.clear();
    this.keys.close();
    this.hide();
    this.cryptor.close();
  }

  private onKey = (event: ServerEvents['e2ee:key']): void => {
    // Sent to all the viewer's connections; only the page that asked can unwrap it.
    const own = getSocket().id;
    if (event.roomId !== this.roomId || (event.socketId && own && event.socketId !== own)) return;
    void this.keys.onKey(event);
  };

  private onReady = (event: ServerEvents['e2ee:ready']): void => {
    if (event.roomId === this.roomId) void this.keys.hello();
  };

  private update(): void {
    const hasKey = this.keys.keyIds().length > 0;
    if (hasKey) markPayStep(this.roomId, 'e2eeKey');
    const error = this.keys.error && !hasKey ? describeSignalingError(this.keys.error) : null;
    this.state = { safetyNumber: this.keys.safetyNumber, hasKey, error };
    for (const listener of this.listeners) listener();
  }
}
