import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Page, Transaction } from '@/types/api';

export type SessionEarnings = { coins: number; payments: number };

/** Pages read at most; 20 × 100 payments is far beyond one session of a small platform. */
const MAX_PAGES = 20;

/**
 * Coins earned in one live session: the `stream_join` entries of that
 * session (`GET /api/transactions?liveSessionId=`) paid to the creator.
 */
export async function getSessionEarnings(
  liveSessionId: string,
  creatorId: string,
  signal?: AbortSignal,
): Promise<SessionEarnings> {
  let coins = 0;
  let payments = 0;
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result: Page<Transaction> = await api.get<Page<Transaction>>('/transactions', {
      params: { liveSessionId, kind: 'stream_join', limit: 100, cursor },
      signal,
    });
    for (const tx of result.items) {
      if (tx.kind === 'stream_join' && tx.toUserId === creatorId && tx.liveSessionId === liveSessionId) {
        coins += tx.amount;
        payments += 1;
      }
    }
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return { coins, payments };
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
