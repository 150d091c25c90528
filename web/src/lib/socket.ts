/**
 * The one Socket.IO connection of the app: typed events, acknowledgements as
 * promises, and a connection that follows the session.
 *
 * The server checks the access token at connect only (Socket.IO v4
 * handshake `auth`), so `auth` is a callback: every reconnect presents the
 * current token. A connect refused by the server's middleware is not retried
 * by the client library (`socket.active` is false), so a refusal refreshes
 * the token once and connects again, unless it refuses the account itself
 * (suspended, closed): that ends the session, as the same refusal on REST does.
 *
 * The socket.io-client library (≈41 kB) is loaded on the first `connect()`,
 * not with the page (issue 23): a signed-out visitor connects only where a
 * page wants the lobby (the home page's live cards, as a guest: issue 19),
 * so other pages never download it. Until then `getSocket()` is a stand-in that keeps listeners
 * and emits and hands them to the real socket once it exists.
 */
import { useEffect, useEffectEvent, useSyncExternalStore } from 'react';
// Types only: the library itself is imported when the socket first connects.
import type { io as socketIo } from 'socket.io-client';

import { env } from '@/config/env';
import {
  getAccessToken,
  hasSessionHint,
  isAccountRefusalCode,
  refreshAccessToken,
  refuseAccount,
  subscribeAccessToken,
} from '@/lib/api-client';
import type { ChatMessage, ChatUser, Notification, Payout, PrivateSession, Purchase, Room } from '@/types/api';

// ---- the events ----

export type RoomRole = 'creator' | 'viewer';

/** Client-to-server events: payload in, `{ok: true, ...result}` back. */
export type AckEvents = {
  'room:join': {
    payload: { roomId: string };
    result: { role: RoomRole; viewerCount: number; messages: ChatMessage[]; room?: Room };
  };
  'room:leave': { payload: { roomId: string }; result: object };
  /** Hear a room's public state (away, back, ended) without paying or joining. */
  'room:watch': { payload: { roomId: string }; result: { room: Room } };
  'room:unwatch': { payload: { roomId: string }; result: object };
  /** Hear every room's public state (the home page). */
  'lobby:join': { payload: Record<string, never>; result: object };
  'lobby:leave': { payload: Record<string, never>; result: object };
  'chat:send': { payload: { roomId: string; text: string }; result: { message: ChatMessage } };
  'chat:delete': { payload: { roomId: string; messageId: string }; result: object };
  'chat:timeout': { payload: { roomId: string; userId: string; seconds: number }; result: { until?: string } };
  'chat:ban': { payload: { roomId: string; userId: string }; result: object };
  'chat:unban': { payload: { roomId: string; userId: string }; result: object };
  /** A party's page of an active private session: present while joined (docs/realtime.md). */
  'private:join': { payload: { sessionId: string }; result: { session: PrivateSession } };
  /** This party's camera and microphone: offer in, the SFU's answer out. */
  'private:publish': { payload: { sessionId: string; sdp: string }; result: { sdp: string } };
  /** The SFU's offer for the other party's stream; answered with `private:answer`. */
  'private:view': { payload: { sessionId: string }; result: { sdp: string } };
  'private:answer': { payload: { sessionId: string; sdp: string }; result: object };
  'media:publish': { payload: { roomId: string; sdp: string }; result: { sdp: string } };
  'media:view': { payload: { roomId: string }; result: { sdp: string } };
  'media:answer': { payload: { roomId: string; sdp: string }; result: object };
  'media:ice': { payload: { roomId: string; candidate: RTCIceCandidateInit | null }; result: object };
  /** E2EE rooms (docs/e2ee.md): a viewer page's ECDH public key, relayed to the creator. */
  'e2ee:hello': { payload: { roomId: string; publicKey: string }; result: object };
  /** The creator made new keys: everyone in the room hears it and says hello again. */
  'e2ee:ready': { payload: { roomId: string; publicKey: string }; result: object };
  /** The creator's media key wrapped for one viewer page. */
  'e2ee:key': {
    payload: { roomId: string; viewerId: string; socketId: string; keyId: number; publicKey: string; wrapped: string };
    result: object;
  };
};

export type PresenceEvent = { roomId: string; user: ChatUser; viewerCount: number };

/** Server-to-client events. */
export type ServerEvents = {
  'room:viewer_joined': PresenceEvent;
  'room:viewer_left': PresenceEvent;
  /** The viewer count, coalesced (at most 4 a second), to members and watchers. */
  'room:count': { roomId: string; viewerCount: number };
  /** To members, watchers and the lobby. */
  'room:ended': { roomId: string };
  /** To the lobby: a live session started. */
  'room:live': { room: Room };
  /** To the lobby, members and watchers: the creator edited the room. */
  'room:updated': { room: Room };
  /** To members: the creator appointed or removed a moderator. */
  'room:moderators': { roomId: string; moderatorIds: string[] };
  /** To the user: a creator they follow went live (stored: `GET /api/notifications`). */
  'notification:new': { notification: Notification; unreadCount: number };
  /** To the user: notifications were marked read (in this or another tab). */
  'notification:read': { unreadCount: number };
  /** The creator's media is gone: the session ends at `awayUntil` unless it comes back. */
  'room:away': { roomId: string; awayUntil: string };
  /** The creator's media came back within the grace. */
  'room:back': { roomId: string };
  /** The creator went into (or came out of) a private session that pauses the room. */
  'room:private': { roomId: string; active: boolean };
  /** To the creator: a viewer asks for a private session. */
  'private:request': { session: PrivateSession };
  /** To both parties, on every change of a private session (accepted, charged, ended...). */
  'private:update': { session: PrivateSession };
  /** To both parties: the viewer's coins run out at `endsAt`, and the session ends then. */
  'private:warning': { sessionId: string; endsAt: string };
  'chat:message': ChatMessage;
  'chat:deleted': { roomId: string; messageId: string };
  /** Moderation notices, to everyone in the room (the target included). */
  'chat:timeout': { roomId: string; user: ChatUser; seconds: number; until: string };
  'chat:ban': { roomId: string; user: ChatUser };
  'balance:update': { coins: number };
  /** A purchase of the user's changed state (paid, expired, refunded). */
  'purchase:update': { purchase: Purchase };
  /** A payout request of the user's was settled. */
  'payout:update': { payout: Payout };
  /** A payment of the user's was given back: its session died before they saw it. */
  'payment:refunded': { roomId: string; amount: number; transactionId: string; roomTitle: string };
  'media:offer': { roomId: string; sdp: string };
  /** To the creator: a viewer page asks for the media key (its access was checked). */
  'e2ee:request': { roomId: string; viewer: ChatUser; socketId: string; publicKey: string };
  /** To everyone in the room: the studio made new keys. */
  'e2ee:ready': { roomId: string; publicKey: string };
  /** To one viewer page: a media key wrapped for it. */
  'e2ee:key': { roomId: string; socketId?: string; keyId: number; publicKey: string; wrapped: string };
  /** To the creator: the user lost access (banned): forget their pages and rotate. */
  'e2ee:revoke': { roomId: string; userId: string };
};

export type ServerEventName = keyof ServerEvents;

type AckError = { code: string; message: string };
type Ack<R> = ({ ok: true } & R) | { ok: false; error?: Partial<AckError> };

/** A refusal in an acknowledgement (`{ok: false, error}`), or no answer in time. */
export class SocketAckError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SocketAckError';
    this.code = code;
  }
}

// ---- the connection ----

type Listener = (...args: never[]) => void;

/** The part of a socket.io-client `Socket` the app uses (a fake one in tests). */
export interface SocketLike {
  /** The connection's id (Socket.IO `socket.id`) while connected. */
  readonly id?: string | undefined;
  readonly connected: boolean;
  readonly active: boolean;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

let socket: SocketLike | null = null;

type SocketModule = { io: typeof socketIo };

/** The real socket's options: a function for `auth`, so a reconnect after a refresh sends the new token. */
function openSocket({ io }: SocketModule): SocketLike {
  const options = {
    path: env.socketPath,
    autoConnect: false,
    // Signed out, the socket is a guest's: the server lets it follow the
    // lobby only (docs/realtime.md).
    auth: (cb: (data: object) => void) => {
      const token = getAccessToken();
      cb(token ? { token } : { guest: true });
    },
  };
  const created = env.socketOrigin ? io(env.socketOrigin, options) : io(options);
  return created as unknown as SocketLike;
}

/**
 * A socket whose library is loaded on the first `connect()` (`load` is the
 * dynamic import). Listeners registered before are attached to the real
 * socket when it is created; emits before it are queued and sent in order
 * (Socket.IO itself buffers emits until the connection is up).
 */
export class LazySocket implements SocketLike {
  private real: SocketLike | null = null;
  private loading: Promise<void> | null = null;
  /** Whether `connect()` was asked for and not cancelled by `disconnect()` since. */
  private wanted = false;
  private readonly listeners: Array<[string, Listener]> = [];
  private readonly queued: unknown[][] = [];

  constructor(private readonly load: () => Promise<SocketLike>) {}

  get id(): string | undefined {
    return this.real?.id;
  }

  get connected(): boolean {
    return this.real?.connected ?? false;
  }

  /** Active while the library loads for a connect, as socket.io's own `active` while it retries. */
  get active(): boolean {
    return this.real ? this.real.active : this.wanted;
  }

  on(event: string, listener: Listener): this {
    this.listeners.push([event, listener]);
    this.real?.on(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    const i = this.listeners.findIndex(([e, l]) => e === event && l === listener);
    if (i >= 0) this.listeners.splice(i, 1);
    this.real?.off(event, listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    if (this.real) this.real.emit(event, ...args);
    else this.queued.push([event, ...args]);
    return this;
  }

  connect(): this {
    this.wanted = true;
    if (this.real) {
      this.real.connect();
      return this;
    }
    this.loading ??= this.load().then(
      (real) => {
        this.real = real;
        for (const [event, listener] of this.listeners) real.on(event, listener);
        for (const [event, ...args] of this.queued.splice(0)) real.emit(event as string, ...args);
        if (this.wanted) real.connect();
      },
      (error: unknown) => {
        // A failed chunk load (offline, a new deploy): the next connect tries again.
        this.loading = null;
        this.wanted = false;
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const [event, listener] of this.listeners) {
          if (event === 'connect_error') (listener as (e: Error) => void)(failure);
        }
      },
    );
    return this;
  }

  disconnect(): this {
    this.wanted = false;
    this.real?.disconnect();
    return this;
  }
}

function createSocket(): SocketLike {
  return new LazySocket(() => import('socket.io-client').then(openSocket));
}

export function getSocket(): SocketLike {
  socket ??= createSocket();
  return socket;
}

/** Tests install a fake socket; `null` forgets it. */
export function setSocketForTesting(fake: SocketLike | null): void {
  socket = fake;
}

const ACK_TIMEOUT_MS = 10_000;

/** Emits an event and resolves with the acknowledgement, or rejects with a `SocketAckError`. */
export function emitWithAck<E extends keyof AckEvents>(
  event: E,
  payload: AckEvents[E]['payload'],
  timeoutMs = ACK_TIMEOUT_MS,
): Promise<AckEvents[E]['result']> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new SocketAckError('timeout', 'The server did not answer in time. Please try again.'));
    }, timeoutMs);
    getSocket().emit(event, payload, (ack: Ack<AckEvents[E]['result']> | undefined) => {
      clearTimeout(timer);
      if (ack && ack.ok) {
        resolve(ack);
      } else {
        const error = ack?.error;
        const code = error?.code ?? 'error';
        const message = error?.message ?? 'The server refused that.';
        // Every event checks the account too (docs/realtime.md).
        if (isAccountRefusalCode(code) && getAccessToken()) refuseAccount({ code, message });
        reject(new SocketAckError(code, message));
      }
    });
  });
}

/** The server's own words, for a refusal that came without any. */
const defaultRefusalMessage = {
  account_suspended: 'This account is suspended.',
  account_closed: 'This account no longer exists.',
} as const;

// ---- guests: the lobby without an account ----

let guestWanted = 0;
const guestListeners = new Set<() => void>();

/**
 * Asks for a connection while signed out (a guest's, lobby only) for as long
 * as the returned function is not called: the home page's live cards.
 */
export function wantGuestSocket(): () => void {
  guestWanted += 1;
  for (const listener of guestListeners) listener();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    guestWanted -= 1;
    for (const listener of guestListeners) listener();
  };
}

/**
 * Connects while there is an access token (or, signed out, while a page
 * wants the lobby: as a guest) and disconnects when neither holds. Signing
 * in or out reconnects, so the server sees who is there. Returns a function
 * that stops following the session.
 */
export function startSocketSession(): () => void {
  const current = getSocket();
  let refusals = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the connection (or the one being made) carries a token. */
  let asUser: boolean | null = null;

  const onConnect = () => {
    refusals = 0;
  };
  const onConnectError = (error: Error) => {
    // `active` stays true while the client retries by itself (network errors).
    if (current.active || !getAccessToken()) return;
    // The server refuses with a message "<code>: <text>" (docs/realtime.md);
    // only a token problem is worth a refresh and another try.
    const separator = error.message.indexOf(':');
    const code = separator < 0 ? error.message.trim() : error.message.slice(0, separator).trim();
    if (isAccountRefusalCode(code)) {
      const text = separator < 0 ? '' : error.message.slice(separator + 1).trim();
      refuseAccount({ code, message: text || defaultRefusalMessage[code] });
      return;
    }
    if (code !== 'token_expired' && code !== 'unauthorized') return;
    refusals += 1;
    if (refusals === 1) {
      void refreshAccessToken().then((token) => {
        if (token) current.connect();
      });
    } else if (refusals <= 5) {
      retryTimer = setTimeout(() => {
        if (getAccessToken()) current.connect();
      }, 2_000 * refusals);
    }
  };
  const follow = (token: string | null) => {
    // While a reload restores the session (a refresh cookie is being
    // traded for a token), no guest connection: it would be replaced at
    // once, mid-handshake.
    const wanted = Boolean(token) || (guestWanted > 0 && !hasSessionHint());
    const open = current.connected || current.active;
    if (open && (!wanted || asUser !== Boolean(token))) {
      current.disconnect();
      asUser = null;
    }
    if (wanted && !(current.connected || current.active)) {
      asUser = Boolean(token);
      current.connect();
    }
  };
  const onGuestChange = () => follow(getAccessToken());

  current.on('connect', onConnect);
  current.on('connect_error', onConnectError);
  const unsubscribe = subscribeAccessToken(follow);
  guestListeners.add(onGuestChange);
  follow(getAccessToken());

  return () => {
    clearTimeout(retryTimer);
    guestListeners.delete(onGuestChange);
    unsubscribe();
    current.off('connect', onConnect);
    current.off('connect_error', onConnectError);
    current.disconnect();
  };
}

// ---- hooks ----

/** Runs `handler` for every `event` from the server while the component is mounted. */
export function useSocketEvent<E extends ServerEventName>(
  event: E,
  handler: (payload: ServerEvents[E]) => void,
): void {
  const onEvent = useEffectEvent(handler);
  useEffect(() => {
    const current = getSocket();
    const listener = (payload: ServerEvents[E]) => onEvent(payload);
    current.on(event, listener);
    return () => {
      current.off(event, listener);
    };
  }, [event]);
}

/** Runs `handler` on every (re)connect of the socket. */
export function useSocketConnect(handler: () => void): void {
  const onConnect = useEffectEvent(handler);
  useEffect(() => {
    const current = getSocket();
    const listener = () => onConnect();
    current.on('connect', listener);
    return () => {
      current.off('connect', listener);
    };
  }, []);
}

function subscribeConnected(callback: () => void): () => void {
  const current = getSocket();
  current.on('connect', callback);
  current.on('disconnect', callback);
  return () => {
    current.off('connect', callback);
    current.off('disconnect', callback);
  };
}

/** Whether the socket is connected right now. */
export function useSocketConnected(): boolean {
  return useSyncExternalStore(
    subscribeConnected,
    () => getSocket().connected,
    () => false,
  );
}
