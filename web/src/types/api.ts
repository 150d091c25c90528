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
  /**
   * The creator is in a one-to-one private session and chose to pause this
   * room meanwhile (`room:private`); older servers send none.
   */
  inPrivate?: boolean;
  access?: RoomAccess;
};

/**
 * `refund`: a payment given back because its session died before the viewer saw it.
 * `purchase`: coins bought (from no one); `purchase_refund`: a refunded purchase
 * taking them back; `tip`: a viewer's tip to a creator; `payout_hold`: coins
 * set aside for a payout request; `payout_release`: a rejected payout's coins back.
 */
export type TransactionKind =
  | 'stream_join'
  | 'grant'
  | 'refund'
  | 'purchase'
  | 'purchase_refund'
  | 'tip'
  | 'payout_hold'
  | 'payout_release'
  | PrivateTransactionKind;

export type Transaction = {
  id: string;
  kind: TransactionKind;
  /** `null` for grants (coins that come from the platform). */
  fromUserId: string | null;
  /** `null` when coins leave the platform (`purchase_refund`, `payout_hold`). */
  toUserId: string | null;
  roomId: string | null;
  roomTitle: string | null;
  liveSessionId: string | null;
  amount: number;
  createdAt: string;
  /** On the `private_*` kinds: the private session they bill. */
  privateSessionId?: string | null;
  /** On a `refund`: the id of the payment it gives back. */
  refundOf?: string | null;
  /** On a `tip`: the tipper's message. */
  message?: string | null;
  /** On `purchase` / `purchase_refund`. */
  purchaseId?: string | null;
  /** On `payout_hold` / `payout_release`. */
  payoutId?: string | null;
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
  /** `tip`: a tip to the creator, `text` its optional message. Older servers send none (`chat`). */
  kind?: 'chat' | 'tip';
  tip?: { amount: number } | null;
};

// ---- money (issue 16) ----

export type CoinPack = {
  id: string;
  coins: number;
  /** In the currency's minor unit (cents). */
  price: number;
  /** ISO 4217, lower case (`usd`). */
  currency: string;
};

export type PaymentProvider = 'stripe' | 'test';

/** `GET /api/coins/packs`; `provider: null`: purchases are not set up on this server. */
export type CoinPacks = { items: CoinPack[]; provider: PaymentProvider | null };

export type PurchaseState = 'pending' | 'paid' | 'expired' | 'refunded';

export type Purchase = {
  id: string;
  packId: string;
  coins: number;
  price: number;
  currency: string;
  state: PurchaseState;
  provider: PaymentProvider;
  /** Test money (the test provider): no real payment behind it. */
  test: boolean;
  createdAt: string;
  paidAt: string | null;
  endedAt: string | null;
};

export type CheckoutResponse = { purchase: Purchase; url: string };

export type TestConfirmResponse = { purchase: Purchase; balance: number };

export type TipResponse = { transaction: Transaction; balance: number };

export type EarningsBySource = { streamJoin: number; tip: number; private: number; total: number };

export type EarningsDay = EarningsBySource & { date: string };

export type Earnings = {
  days: EarningsDay[];
  totals: EarningsBySource;
  /** Earned coins that may be paid out now. */
  payable: number;
  /** Coins held for an open payout request. */
  held: number;
  paidOut: number;
  payoutMin: number;
};

export type PayoutState = 'requested' | 'paid' | 'rejected';

export type Payout = {
  id: string;
  coins: number;
  state: PayoutState;
  note: string | null;
  createdAt: string;
  settledAt: string | null;
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

// ---- one-to-one private sessions (issue 17) ----

/**
 * A private session's ledger entries: `private_hold` (viewer to escrow, a
 * period held ahead), `private_charge` (escrow to the creator, a period
 * used), `private_release` (escrow back to the viewer, the unused rest).
 */
export type PrivateTransactionKind = 'private_hold' | 'private_charge' | 'private_release';

/** A creator's terms for private sessions (`GET/PUT /api/private/offer`). */
export type PrivateOffer = {
  creatorId: string;
  pricePerMinute: number;
  /** Whether viewers may ask for a private session now. */
  accepting: boolean;
  /** Whether the creator's live rooms pause while a private session runs. */
  pauseRoom: boolean;
};

export type PrivateOfferInput = Pick<PrivateOffer, 'pricePerMinute' | 'accepting' | 'pauseRoom'>;

export type PrivateSessionState = 'requested' | 'active' | 'ended' | 'declined' | 'expired' | 'cancelled';

export type PrivateEndReason = 'viewer' | 'creator' | 'funds' | 'connection' | 'server';

export type PrivateSession = {
  id: string;
  creator: UserRef;
  viewer: UserRef;
  pricePerMinute: number;
  /** The billing period (a minute, shorter in tests). */
  periodSeconds: number;
  state: PrivateSessionState;
  requestedAt: string;
  /** When an unanswered request expires. */
  expiresAt: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: PrivateEndReason | null;
  /** Seconds billed so far (the total once ended). */
  seconds: number;
  /** Coins charged so far (the total once ended). */
  coins: number;
  /** Coins on hold now for the current period. */
  held: number;
  /** When the held period ends (RFC 3339). */
  paidThrough: string | null;
};
