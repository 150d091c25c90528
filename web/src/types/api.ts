/** The JSON shapes of the StreamShare API (see shared/CONTRACT.md). */

export type User = {
  id: string;
  username: string;
  displayName: string;
  coins: number;
  createdAt: string;
  /** How much of `coins` is unspent sign-up grant: spent first, but not in the
   * rooms of a creator who signed up from the same network. */
  bonusCoins: number;
  emailVerified: boolean;
  /** The sign-up grant waits for the e-mail address to be verified. */
  grantPending: boolean;
};

export type UserRef = {
  id: string;
  username: string;
  displayName: string;
};

export type RoomStatus = 'offline' | 'live';

/** What the caller may do in a room: only on `GET /api/rooms/{id}`. */
export type RoomAccess = 'creator' | 'paid' | 'free' | 'locked';

export type Room = {
  id: string;
  creator: UserRef;
  title: string;
  description: string;
  category: string;
  price: number;
  status: RoomStatus;
  liveSessionId: string | null;
  viewerCount: number;
  thumbnailUrl: string | null;
  createdAt: string;
  startedAt: string | null;
  /**
   * While the room is live but the creator's media is gone (tab closed,
   * network lost): when the session ends unless the media comes back.
   * Nothing can be paid meanwhile (409 `publisher_away`).
   */
  awayUntil: string | null;
  /**
   * End-to-end encrypted (docs/e2ee.md): media frames are encrypted in the
   * creator's browser for paying viewers' browsers; browser publishing only.
   */
  e2ee: boolean;
  access?: RoomAccess;
};

/** `refund`: a payment given back because its session died before the viewer saw it. */
export type TransactionKind = 'stream_join' | 'grant' | 'refund';

export type Transaction = {
  id: string;
  kind: TransactionKind;
  /** `null` for grants (coins that come from the platform). */
  fromUserId: string | null;
  toUserId: string;
  roomId: string | null;
  roomTitle: string | null;
  liveSessionId: string | null;
  amount: number;
  createdAt: string;
  /** On a `refund`: the id of the payment it gives back. */
  refundOf?: string | null;
};

export type HistoryEntry = {
  id: string;
  roomId: string;
  roomTitle: string;
  creator: UserRef;
  liveSessionId: string | null;
  joinedAt: string;
  leftAt: string | null;
};

export type Page<T> = {
  items: T[];
  nextCursor: string | null;
};

export type ChatUser = { id: string; username: string };

export type ChatMessage = {
  id: string;
  roomId: string;
  user: ChatUser;
  text: string;
  sentAt: string;
};

export type AuthResponse = { user: User; accessToken: string };

export type ErrorBody = {
  error: {
    code: string;
    message: string;
    field?: string;
    [extra: string]: unknown;
  };
};
