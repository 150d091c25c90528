/**
 * Who is signed in: `GET /api/users/me` as the `['me']` query. `null` means
 * anonymous. Used by every feature, so it lives here rather than in a feature.
 */
import { queryOptions, useQuery, type QueryClient } from '@tanstack/react-query';

import {
  ApiError,
  api,
  getAccessToken,
  hasSessionHint,
  refreshAccessToken,
  setAccessToken,
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
    return await api.get<User>('/users/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
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

/** After login or registration: remember the token and the user. */
export function startSession(queryClient: QueryClient, { user, accessToken }: AuthResponse): void {
  setAccessToken(accessToken);
  queryClient.setQueryData(queryKeys.me, user);
  queryClient.setQueryData(queryKeys.balance, { coins: user.coins });
}

/** After logout or a refused refresh: forget everything that belonged to the user. */
export function endSession(queryClient: QueryClient): void {
  setAccessToken(null);
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] });
  queryClient.setQueryData(queryKeys.me, null);
}
