import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Room } from '@/types/api';

/** `GET /api/rooms/{id}` for the studio (the same cache entry as the room page). */
export const getStudioRoom = (id: string, signal?: AbortSignal) =>
  api.get<Room>(`/rooms/${encodeURIComponent(id)}`, { signal });

export const studioRoomQueryOptions = (id: string) =>
  queryOptions({
    queryKey: queryKeys.rooms.detail(id),
    queryFn: ({ signal }) => getStudioRoom(id, signal),
  });

export function useStudioRoom(id: string) {
  return useQuery(studioRoomQueryOptions(id));
}
