import { useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/notifications`: the newest notifications and the unread count. */
export const getNotifications = (signal?: AbortSignal) =>
  body(client.GET('/api/notifications', { params: { query: { limit: 20 } }, signal }));

/** The bell's list; `notification:new` and `notification:read` keep it current. */
export function useNotifications(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.notifications,
    queryFn: ({ signal }) => getNotifications(signal),
    enabled,
    staleTime: 60_000,
  });
}
