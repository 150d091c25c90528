/**
 * The JSON shapes of the StreamShare API, as names the features use. Every
 * REST shape is an alias of the types generated from docs/openapi.yaml
 * (`npm run gen:api` writes `openapi.gen.ts`; `npm run check` fails when it is
 * stale), so a change to the API description shows up here as a type error.
 * Only the Socket.IO payloads, which OpenAPI does not describe, are written
 * by hand (see shared/CONTRACT.md).
 */
import type { components, paths } from '@/types/openapi.gen';

export type { components, paths };

type Schemas = components['schemas'];
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Success = 200 | 201;
/** The JSON body of a path's successful answer, for shapes the description keeps inline. */
export type ResponseOf<P extends keyof paths, M extends Method> = paths[P][M] extends {
  responses: infer R;
}
  ? { [S in Success & keyof R]: R[S] extends { content: { 'application/json': infer B } } ? B : never }[Success &
      keyof R]
  : never;

export type User = Schemas['User'];
export type UserRef = Schemas['UserRef'];

export type RoomStatus = Schemas['Room']['status'];
/** What the caller may do in a room: only on `GET /api/rooms/{id}`. */
export type RoomAccess = Schemas['RoomWithAccess']['access'];
/** A room; `access` only where the answer has it (`GET /api/rooms/{id}`). */
export type Room = Schemas['Room'] & { access?: RoomAccess };

export type Transaction = Schemas['Transaction'];
export type TransactionKind = Transaction['kind'];
/** A private session's ledger entries: hold (viewer to escrow), charge (escrow to the creator), release (back). */
export type PrivateTransactionKind = Extract<TransactionKind, `private_${string}`>;

export type HistoryEntry = Schemas['ViewEntry'];

/** A page of a list (`{items, nextCursor}`), as every list endpoint answers. */
export type Page<T> = { items: T[]; nextCursor: string | null };

// ---- money (issue 16) ----

export type CoinPack = Schemas['CoinPack'];
/** `GET /api/coins/packs`; `provider: null`: purchases are not set up on this server. */
export type CoinPacks = ResponseOf<'/api/coins/packs', 'get'>;
export type PaymentProvider = NonNullable<CoinPacks['provider']>;
export type Purchase = Schemas['Purchase'];
export type PurchaseState = Purchase['state'];
export type CheckoutResponse = ResponseOf<'/api/coins/checkout', 'post'>;
export type TestConfirmResponse = ResponseOf<'/api/coins/purchases/{id}/test-confirm', 'post'>;
export type TipResponse = ResponseOf<'/api/transactions/tip', 'post'>;
export type StreamJoinResult = Schemas['StreamJoinAnswer'];

export type EarningsBySource = Schemas['EarningSources'];
export type Earnings = Schemas['Earnings'];
export type EarningsDay = Earnings['days'][number];
export type Payout = Schemas['Payout'];
export type PayoutState = Payout['state'];

export type AuthResponse = Schemas['AuthAnswer'];
export type ErrorBody = Schemas['Error'];
export type StreamKey = Schemas['StreamKey'];
export type Balance = Schemas['Balance'];
export type IceServersResponse = ResponseOf<'/api/media/ice-servers', 'get'>;

// ---- one-to-one private sessions (issue 17) ----

/** A creator's terms for private sessions (`GET/PUT /api/private/offer`). */
export type PrivateOffer = Schemas['PrivateOffer'];
export type PrivateOfferInput = Pick<PrivateOffer, 'pricePerMinute' | 'accepting' | 'pauseRoom'>;
export type PrivateSession = Schemas['PrivateSession'];
export type PrivateSessionState = PrivateSession['state'];
export type PrivateEndReason = NonNullable<PrivateSession['endReason']>;

// ---- community (issue 19) ----

export type CreatorProfile = Schemas['CreatorProfile'];
export type PastSession = Schemas['PastSession'];
export type FollowState = Schemas['FollowState'];
export type Notification = Schemas['Notification'];
export type NotificationPage = Schemas['NotificationPage'];
export type ChatSettings = Schemas['ChatSettings'];

// ---- Socket.IO payloads (not in the OpenAPI description) ----

/**
 * A user as socket events carry them. Chat messages add the display name and
 * badge (older servers: none).
 */
export type ChatUser = {
  id: string;
  username: string;
  displayName?: string;
  badge?: 'host' | 'moderator' | null;
};

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
