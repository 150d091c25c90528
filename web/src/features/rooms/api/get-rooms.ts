import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys, type RoomListParams } from '@/lib/query-keys';
import type { Page, Room } from '@/types/api';

export type GetRoomsParams = RoomListParams & { cursor?: string | null };

/** `GET /api/rooms`: live first, most viewers first. */
export const getRooms = ({ cursor, ...params }: GetRoomsParams, signal?: AbortSignal) =>
  api.get<Page<Room>>('/rooms', { params: { ...params, cursor }, signal });

export const roomsQueryOptions = (params: RoomListParams) =>
  infiniteQueryOptions({
    queryKey: queryKeys.rooms.list(params),
    queryFn: ({ pageParam, signal }) => getRooms({ ...params, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export function useRooms(params: RoomListParams, { refetchInterval }: { refetchInterval?: number } = {}) {
  return useInfiniteQuery({
    ...roomsQueryOptions(params),
    refetchInterval,
    // Keep showing the last results while a new search loads.
    placeholderData: keepPreviousData,
  });
}
