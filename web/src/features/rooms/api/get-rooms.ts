import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery, type QueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys, type RoomListParams } from '@/lib/query-keys';

export type GetRoomsParams = RoomListParams & { cursor?: string | null };

/** `GET /api/rooms`: live first, most viewers first. */
export const getRooms = ({ cursor, ...params }: GetRoomsParams, signal?: AbortSignal) =>
  body(client.GET('/api/rooms', { params: { query: { ...params, cursor: cursor ?? undefined } }, signal }));

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

/** The home page's search, category and price (from its URL). */
export type HomeFilters = { q?: string; category?: string; price?: 'free' | 'paid' | undefined };

/** How many cards the home page asks for at once, live and offline. */
export const HOME_LIVE_LIMIT = 24;
export const HOME_OFFLINE_LIMIT = 12;

/** The home page's two lists: the same params (so the same keys) for the page and its prefetch. */
export function homeRoomLists({ q, category, price }: HomeFilters): {
  live: RoomListParams;
  offline: RoomListParams;
  following: RoomListParams;
} {
  const filters = { q: q || undefined, category: category || undefined, price: price || undefined };
  return {
    live: { status: 'live', ...filters, limit: HOME_LIVE_LIMIT },
    offline: { status: 'offline', ...filters, limit: HOME_OFFLINE_LIMIT },
    following: { status: 'live', following: 'true', limit: HOME_LIVE_LIMIT },
  };
}

/** The price filter from the URL (`?price=free|paid`). */
export function priceParam(raw: string | null): 'free' | 'paid' | undefined {
  return raw === 'free' || raw === 'paid' ? raw : undefined;
}

/**
 * Starts the home page's first room pages as the app starts (the route's
 * loader), in parallel with the page's code, rather than once the page has
 * rendered: the list, then the first thumbnails, are the largest paint
 * (issue 23). The page's own queries find them in flight or cached.
 */
export function prefetchHomeRooms(queryClient: QueryClient, search: URLSearchParams): void {
  const lists = homeRoomLists({
    q: search.get('q')?.trim(),
    category: search.get('category') ?? undefined,
    price: priceParam(search.get('price')),
  });
  void queryClient.prefetchInfiniteQuery(roomsQueryOptions(lists.live));
  void queryClient.prefetchInfiniteQuery(roomsQueryOptions(lists.offline));
}
