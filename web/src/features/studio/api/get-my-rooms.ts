import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/rooms?creatorId=`: the rooms the signed-in user created. */
export const getMyRooms = (creatorId: string, signal?: AbortSignal) =>
  body(client.GET('/api/rooms', { params: { query: { creatorId, limit: 100 } }, signal }));

export const myRoomsQueryOptions = (creatorId: string) =>
  queryOptions({
    queryKey: queryKeys.rooms.list({ creatorId, limit: 100 }),
    queryFn: ({ signal }) => getMyRooms(creatorId, signal),
  });

export function useMyRooms(creatorId: string) {
  return useQuery(myRoomsQueryOptions(creatorId));
}
