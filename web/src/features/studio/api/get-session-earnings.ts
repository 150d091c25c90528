import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Page, Transaction } from '@/types/api';

export type SessionEarnings = { coins: number; payments: number };

/** Pages read at most; 20 × 100 payments is far beyond one session of a small platform. */
const MAX_PAGES = 20;

/** Every entry of one kind in one live session, across pages. */
async function sessionEntries(
  liveSessionId: string,
  kind: 'stream_join' | 'refund' | 'tip',
  signal?: AbortSignal,
): Promise<Transaction[]> {
  const entries: Transaction[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result: Page<Transaction> = await body(client.GET('/api/transactions', { params: { query: { liveSessionId, kind, limit: 100, cursor: cursor ?? undefined } },
      signal, }));
    entries.push(...result.items.filter((tx) => tx.kind === kind && tx.liveSessionId === liveSessionId));
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return entries;
}

/**
 * Coins earned in one live session: the `stream_join` entries of that
 * session (`GET /api/transactions?liveSessionId=`) paid to the creator and
 * the viewers' `tip`s (issue 16), less the `refund`s the creator paid back
 * (a session that died before its viewers saw it). `payments` counts the
 * entries and tips that stand.
 */
export async function getSessionEarnings(
  liveSessionId: string,
  creatorId: string,
  signal?: AbortSignal,
): Promise<SessionEarnings> {
  const [payments, refunds, tips] = await Promise.all([
    sessionEntries(liveSessionId, 'stream_join', signal),
    sessionEntries(liveSessionId, 'refund', signal),
    sessionEntries(liveSessionId, 'tip', signal),
  ]);
  const paid = payments.filter((tx) => tx.toUserId === creatorId);
  const refunded = refunds.filter((tx) => tx.fromUserId === creatorId);
  const tipped = tips.filter((tx) => tx.toUserId === creatorId);
  const sum = (entries: Transaction[]) => entries.reduce((total, tx) => total + tx.amount, 0);
  return {
    coins: sum(paid) + sum(tipped) - sum(refunded),
    payments: Math.max(paid.length - refunded.length, 0) + tipped.length,
  };
}

export const sessionEarningsQueryOptions = (liveSessionId: string, creatorId: string) =>
  queryOptions({
    queryKey: queryKeys.transactions.sessionEarnings(liveSessionId),
    queryFn: ({ signal }) => getSessionEarnings(liveSessionId, creatorId, signal),
  });

/** Refreshed when `balance:update` invalidates the transactions. */
export function useSessionEarnings(liveSessionId: string | null, creatorId: string) {
  return useQuery({
    ...sessionEarningsQueryOptions(liveSessionId ?? '', creatorId),
    enabled: liveSessionId !== null,
  });
}
