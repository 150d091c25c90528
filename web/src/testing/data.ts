/** Factories for API objects in tests. */
import type { ChatMessage, Room, Transaction, User } from '@/types/api';

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
