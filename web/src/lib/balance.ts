/**
 * The signed-in user's coin balance: `GET /api/users/balance` as the
 * `['balance']` query, kept live by the `balance:update` socket event.
 */
import { queryOptions, useQuery, type QueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { useUser } from '@/lib/auth';
import { queryKeys } from '@/lib/query-keys';
import type { Balance, User } from '@/types/api';

export const getBalance = () => body(client.GET('/api/users/balance'));

export const balanceQueryOptions = () =>
  queryOptions({
    queryKey: queryKeys.balance,
    queryFn: getBalance,
    staleTime: 60_000,
  });

/** The balance, or `undefined` while anonymous or loading. */
export function useBalance(): number | undefined {
  const { data: user } = useUser();
  const { data } = useQuery({ ...balanceQueryOptions(), enabled: Boolean(user) });
  if (!user) return undefined;
  return data?.coins ?? user.coins;
}

/** Writes a balance the server told us about into every place that shows it. */
export function setBalanceInCache(queryClient: QueryClient, coins: number): void {
  queryClient.setQueryData<Balance>(queryKeys.balance, { coins });
  queryClient.setQueryData<User | null>(queryKeys.me, (user) => (user ? { ...user, coins } : user));
}
