/** The MSW server every unit test shares: the network mocked at the fetch level. */
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';

/**
 * Answers every test gets unless it says otherwise: the ICE servers, which the
 * pay gate loads ahead of the click (none: host candidates only), and no
 * private sessions (the root layout's host reads the open ones for a signed-in user),
 * the chat's settings and no notifications.
 */
export const defaultHandlers = [
  http.get('/api/media/ice-servers', () => HttpResponse.json({ iceServers: [], ttlSeconds: 600 })),
  http.get('/api/private/sessions', () => HttpResponse.json({ items: [], nextCursor: null })),
  // The chat's link safe-list, and the header bell's notifications.
  http.get('/api/chat/settings', () => HttpResponse.json({ linkDomains: ['github.com'], maxMessageChars: 500 })),
  http.get('/api/notifications', () => HttpResponse.json({ items: [], nextCursor: null, unreadCount: 0 })),
];

export const server = setupServer(...defaultHandlers);
