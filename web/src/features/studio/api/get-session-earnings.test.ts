import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { getSessionEarnings } from '@/features/studio/api/get-session-earnings';
import { setAccessToken } from '@/lib/api-client';
import { aTransaction } from '@/testing/data';
import { server } from '@/testing/server';

describe('getSessionEarnings', () => {
  it('adds up the payments to the creator in one session, across pages', async () => {
    setAccessToken('token');
    const queries: string[] = [];
    server.use(
      http.get('/api/transactions', ({ request }) => {
        const url = new URL(request.url);
        if (url.searchParams.get('kind') !== 'stream_join') return HttpResponse.json({ items: [], nextCursor: null });
        queries.push(url.search);
        if (url.searchParams.get('cursor') === 'next') {
          return HttpResponse.json({ items: [aTransaction({ id: 't3', amount: 5, toUserId: 'u-creator' })], nextCursor: null });
        }
        return HttpResponse.json({
          items: [
            aTransaction({ id: 't1', amount: 10, toUserId: 'u-creator' }),
            aTransaction({ id: 't2', amount: 10, toUserId: 'u-creator' }),
            // The creator paying someone else in the same session id is not earnings.
            aTransaction({ id: 'tx', amount: 99, fromUserId: 'u-creator', toUserId: 'u-else' }),
          ],
          nextCursor: 'next',
        });
      }),
    );

    await expect(getSessionEarnings('s-1', 'u-creator')).resolves.toEqual({ coins: 25, payments: 3 });
    expect(queries[0]).toContain('liveSessionId=s-1');
    expect(queries[0]).toContain('kind=stream_join');
    expect(queries[1]).toContain('cursor=next');
  });

  it('takes off the payments refunded to viewers (a session that died before they saw it)', async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/transactions', ({ request }) => {
        const kind = new URL(request.url).searchParams.get('kind');
        return HttpResponse.json({
          items:
            kind === 'refund'
              ? [aTransaction({ id: 'rf', kind: 'refund', refundOf: 't1', amount: 10, fromUserId: 'u-creator', toUserId: 'u-viewer' })]
              : [aTransaction({ id: 't1', amount: 10, toUserId: 'u-creator' }), aTransaction({ id: 't2', amount: 10, toUserId: 'u-creator' })],
          nextCursor: null,
        });
      }),
    );
    await expect(getSessionEarnings('s-1', 'u-creator')).resolves.toEqual({ coins: 10, payments: 1 });
  });

  it("counts the viewers' tips in the session's earnings (issue 16)", async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/transactions', ({ request }) => {
        const kind = new URL(request.url).searchParams.get('kind');
        return HttpResponse.json({
          items:
            kind === 'tip'
              ? [
                  aTransaction({ id: 'tp', kind: 'tip', amount: 7, toUserId: 'u-creator' }),
                  // The creator tipping in someone else's room, same session id: not earnings.
                  aTransaction({ id: 'tq', kind: 'tip', amount: 3, fromUserId: 'u-creator', toUserId: 'u-else' }),
                ]
              : kind === 'stream_join'
                ? [aTransaction({ id: 't1', amount: 10, toUserId: 'u-creator' })]
                : [],
          nextCursor: null,
        });
      }),
    );
    await expect(getSessionEarnings('s-1', 'u-creator')).resolves.toEqual({ coins: 17, payments: 2 });
  });
});
