import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/rooms/{id}`: the room and the caller's `access` to it. */
export const getRoom = (id: string, signal?: AbortSignal) =>
  body(client.GET('/api/rooms/{id}', { params: { path: { id } }, signal }));

export const roomQueryOptions = (id: string) =>
  queryOptions({
    queryKey: queryKeys.rooms.detail(id),
    queryFn: ({ signal }) => getRoom(id, signal),
  });

/** While the room is offline, look again now and then to notice it going live. */
const OFFLINE_POLL_MS = 15_000;

export function useRoom(id: string) {
  return useQuery({
    ...roomQueryOptions(id),
    refetchInterval: (query) => (query.state.data?.status === 'offline' ? OFFLINE_POLL_MS : false),
  });
}
