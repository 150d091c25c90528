import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/rooms/{id}` for the studio (the same cache entry as the room page). */
export const getStudioRoom = (id: string, signal?: AbortSignal) =>
  body(client.GET('/api/rooms/{id}', { params: { path: { id } }, signal }));

export const studioRoomQueryOptions = (id: string) =>
  queryOptions({
    queryKey: queryKeys.rooms.detail(id),
    queryFn: ({ signal }) => getStudioRoom(id, signal),
  });

export function useStudioRoom(id: string) {
  return useQuery(studioRoomQueryOptions(id));
}
