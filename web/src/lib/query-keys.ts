/**
 * The TanStack Query keys that more than one feature (or the socket layer)
 * reads or writes. Keys are hierarchical so a mutation can invalidate a whole
 * family (`queryKeys.rooms.all`) at once.
 */
import type { TransactionKind } from '@/types/api';

export type RoomListParams = {
  status?: 'live' | 'offline';
  q?: string;
  category?: string;
  creatorId?: string;
  price?: 'free' | 'paid';
  following?: 'true';
  limit?: number;
};

export type TransactionListParams = {
  kind?: TransactionKind;
  roomId?: string;
  liveSessionId?: string;
  limit?: number;
};

export const queryKeys = {
  me: ['me'] as const,
  balance: ['balance'] as const,
  rooms: {
    all: ['rooms'] as const,
    lists: () => ['rooms', 'list'] as const,
    list: (params: RoomListParams) => ['rooms', 'list', params] as const,
    detail: (id: string) => ['rooms', 'detail', id] as const,
  },
  transactions: {
    all: ['transactions'] as const,
    list: (params: TransactionListParams) => ['transactions', 'list', params] as const,
    sessionEarnings: (liveSessionId: string) => ['transactions', 'session', liveSessionId] as const,
  },
  history: ['history'] as const,
  /** Coin packs and the payment provider (`GET /api/coins/packs`). */
  coinPacks: ['coin-packs'] as const,
  purchases: {
    all: ['purchases'] as const,
    list: () => ['purchases', 'list'] as const,
    detail: (id: string) => ['purchases', 'detail', id] as const,
  },
  earnings: (days: number) => ['earnings', days] as const,
  earningsAll: ['earnings'] as const,
  payouts: ['payouts'] as const,
  streamKey: (roomId: string) => ['stream-key', roomId] as const,
  iceServers: ['ice-servers'] as const,
  /** The result of `room:join` for a room, kept current by socket events. */
  roomChannel: (roomId: string) => ['room-channel', roomId] as const,
  roomChannels: ['room-channel'] as const,
  /** The result of `room:watch` (public state only, no payment needed). */
  roomWatch: (roomId: string) => ['room-watch', roomId] as const,
  roomWatches: ['room-watch'] as const,
  /** Being in the lobby (`lobby:join`): every room's public state. */
  lobby: ['lobby'] as const,
  /** Messages for the user that came over the socket (a refund). */
  notices: ['notices'] as const,
  /** The bell: the caller's notifications (first page) and the unread count. */
  notifications: ['notifications'] as const,
  /** A creator's public page. */
  creator: (username: string) => ['creator', username] as const,
  /** The chat's settings (link domains). */
  chatSettings: ['chat-settings'] as const,
  /** Chat lines received live in a room (the history comes with the channel). */
  chat: (roomId: string) => ['chat', roomId] as const,
};
