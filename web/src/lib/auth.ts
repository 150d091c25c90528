/**
 * Who is signed in: `GET /api/users/me` as the `['me']` query. `null` means
 * anonymous. Used by every feature, so it lives here rather than in a feature.
 */
import { queryOptions, useQuery, type QueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';

import {
  ApiError,
  body,
  client,
  getAccessToken,
  getAccountRefusal,
  hasSessionHint,
  refreshAccessToken,
  setAccessToken,
  subscribeAccountRefusal,
  type AccountRefusal,
} from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { AuthResponse, User } from '@/types/api';

export async function getMe(): Promise<User | null> {
  if (!getAccessToken()) {
    // A reload: the refresh cookie (if any) gives this tab its access token.
    if (!hasSessionHint()) return null;
    if (!(await refreshAccessToken())) return null;
  }
  try {
    return await body(client.GET('/api/users/me'));
  } catch (error) {
    // 401 (the session is gone, `account_closed` included) or a suspended
    // account: anonymous from now on; the API client kept the reason.
    if (error instanceof ApiError && (error.status === 401 || error.code === 'account_suspended')) {
      setAccessToken(null);
      return null;
    }
    throw error;
  }
}

export const userQueryOptions = () =>
  queryOptions({
    queryKey: queryKeys.me,
    queryFn: getMe,
    staleTime: 5 * 60_000,
  });

export function useUser() {
  return useQuery(userQueryOptions());
}

/** Why the server signed this account out (suspended, closed), until the person dismisses it. */
export function useAccountRefusal(): AccountRefusal | null {
  return useSyncExternalStore(subscribeAccountRefusal, getAccountRefusal, () => null);
}

/** A user the server sent (login, verification): it becomes `me`, and its coins the balance. */
export function setUserInCache(queryClient: QueryClient, user: User): void {
  queryClient.setQueryData(queryKeys.me, user);
  queryClient.setQueryData(queryKeys.balance, { coins: user.coins });
}

/** After login or registration: remember the token and the user. */
export function startSession(queryClient: QueryClient, { user, accessToken }: AuthResponse): void {
  setAccessToken(accessToken);
  setUserInCache(queryClient, user);
}

/** After logout or a refused refresh: forget everything that belonged to the user. */
export function endSession(queryClient: QueryClient): void {
  setAccessToken(null);
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] });
  queryClient.setQueryData(queryKeys.me, null);
}
