/** Factories for API objects in tests. */
import type { ChatMessage, Earnings, Payout, Purchase, Room, Transaction, User } from '@/types/api';

export const aUser = (over: Partial<User> = {}): User => ({
  id: 'u-viewer',
  username: 'viewer',
  displayName: 'Vera Viewer',
  coins: 100,
  createdAt: '2025-01-01T10:00:00Z',
  bonusCoins: 0,
  emailVerified: true,
  grantPending: false,
  ...over,
});

export const aRoom = (over: Partial<Room> = {}): Room => ({
  id: 'r-1',
  creator: { id: 'u-creator', username: 'creator', displayName: 'Cleo Creator' },
  title: 'Speedrun night',
  description: '',
  category: 'gaming',
  price: 10,
  status: 'live',
  liveSessionId: 's-1',
  viewerCount: 3,
  thumbnailUrl: null,
  createdAt: '2025-01-01T10:00:00Z',
  startedAt: '2025-01-02T18:00:00Z',
  awayUntil: null,
  e2ee: false,
  inPrivate: false,
  moderatorIds: [],
  ...over,
});

export const aTransaction = (over: Partial<Transaction> = {}): Transaction => ({
  id: 't-1',
  kind: 'stream_join',
  fromUserId: 'u-viewer',
  toUserId: 'u-creator',
  roomId: 'r-1',
  roomTitle: 'Speedrun night',
  liveSessionId: 's-1',
  amount: 10,
  createdAt: '2025-01-02T18:05:00Z',
  refundOf: null,
  ...over,
});

export const aMessage = (over: Partial<ChatMessage> = {}): ChatMessage => ({
  id: 'm-1',
  roomId: 'r-1',
  user: { id: 'u-other', username: 'otto' },
  text: 'hello there',
  sentAt: '2025-01-02T18:06:00Z',
  ...over,
});

export const aPurchase = (over: Partial<Purchase> = {}): Purchase => ({
  id: 'p-1',
  packId: 'small',
  coins: 100,
  price: 199,
  currency: 'usd',
  state: 'pending',
  provider: 'test',
  test: true,
  createdAt: '2025-01-03T09:00:00Z',
  paidAt: null,
  endedAt: null,
  ...over,
});

export const aPayout = (over: Partial<Payout> = {}): Payout => ({
  id: 'po-1',
  coins: 1500,
  state: 'requested',
  note: null,
  createdAt: '2025-01-04T09:00:00Z',
  settledAt: null,
  ...over,
});

export const anEarnings = (over: Partial<Earnings> = {}): Earnings => ({
  days: [
    { date: '2025-01-02', streamJoin: 300, tip: 50, private: 0, total: 350 },
    { date: '2025-01-03', streamJoin: 0, tip: 0, private: 0, total: 0 },
    { date: '2025-01-04', streamJoin: 1000, tip: 200, private: 0, total: 1200 },
  ],
  totals: { streamJoin: 1300, tip: 250, private: 0, total: 1550 },
  payable: 1550,
  held: 0,
  paidOut: 0,
  payoutMin: 1000,
  ...over,
});
