/**
 * Writes what the socket says about a room into every cached copy of it: the
 * room page's `GET /api/rooms/{id}` and the home page's `GET /api/rooms` lists.
 */
import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';

import { queryKeys, type RoomListParams } from '@/lib/query-keys';
import type { Page, Room } from '@/types/api';

/**
 * A cached list of rooms: the home page's infinite query, or one page (the
 * studio's own rooms); both live under `queryKeys.rooms.lists()`.
 */
type RoomList = InfiniteData<Page<Room>> | Page<Room>;

type Update = (room: Room, list?: RoomListParams) => Room | null;

function updatePage(page: Page<Room>, roomId: string, update: Update, params: RoomListParams): Page<Room> {
  if (!page.items.some((room) => room.id === roomId)) return page;
  return {
    ...page,
    items: page.items.flatMap((room) => {
      if (room.id !== roomId) return [room];
      const next = update(room, params);
      return next ? [next] : [];
    }),
  };
}

function updateList(list: RoomList, roomId: string, update: Update, params: RoomListParams): RoomList {
  if ('pages' in list) {
    const pages = list.pages.map((page) => updatePage(page, roomId, update, params));
    return pages.every((page, i) => page === list.pages[i]) ? list : { ...list, pages };
  }
  return 'items' in list ? updatePage(list, roomId, update, params) : list;
}

/**
 * Applies `update` to the room's detail and to its card in every list; an
 * update that answers `null` for a list takes the card out of it.
 */
export function updateRoomInCache(queryClient: QueryClient, roomId: string, update: Update): void {
  queryClient.setQueryData<Room>(queryKeys.rooms.detail(roomId), (room) => (room ? (update(room) ?? room) : room));
  for (const [key, data] of queryClient.getQueriesData<RoomList>({ queryKey: queryKeys.rooms.lists() })) {
    if (!data) continue;
    const next = updateList(data, roomId, update, listParams(key));
    if (next !== data) queryClient.setQueryData<RoomList>(key, next);
  }
}

/** The params of a `queryKeys.rooms.list(params)` key. */
function listParams(key: QueryKey): RoomListParams {
  const params = key[2];
  return typeof params === 'object' && params !== null ? params : {};
}

/**
 * A fresh copy of a room from the socket (`room:watch`'s answer): it has no
 * `access` (that is per caller, REST only), so the cached one is kept.
 */
export function mergeRoomIntoCache(queryClient: QueryClient, fresh: Room): void {
  updateRoomInCache(queryClient, fresh.id, (room) => ({ ...room, ...fresh, access: fresh.access ?? room.access }));
}

/**
 * When the live session ends unless the creator's media comes back, or
 * `null` while the room is not away (also for a room from a server that does
 * not send `awayUntil`: never refuse to sell on a missing field).
 */
export function roomAwayUntil(room: Room): string | null {
  return room.status === 'live' ? (room.awayUntil ?? null) : null;
}

/** `room:away`: live, but the creator's media is gone until `awayUntil` at the latest. */
export function setRoomAway(queryClient: QueryClient, roomId: string, awayUntil: string | null): void {
  updateRoomInCache(queryClient, roomId, (room) => ({ ...room, awayUntil }));
}

/** `room:private`: the creator's private session pauses the room, or ended. */
export function setRoomPrivate(queryClient: QueryClient, roomId: string, inPrivate: boolean): void {
  updateRoomInCache(queryClient, roomId, (room) => ({ ...room, inPrivate }));
}

/** `room:ended`: offline now; out of the lists of live rooms. */
export function setRoomEnded(queryClient: QueryClient, roomId: string): void {
  updateRoomInCache(queryClient, roomId, (room, list) =>
    list?.status === 'live'
      ? null
      : { ...room, status: 'offline', liveSessionId: null, startedAt: null, viewerCount: 0, awayUntil: null },
  );
}

/** Whether a live room belongs in a list with these params (its filters). */
export function roomMatchesList(room: Room, params: RoomListParams): boolean {
  if (params.status && params.status !== room.status) return false;
  if (params.category && params.category !== room.category) return false;
  if (params.creatorId && params.creatorId !== room.creator.id) return false;
  if (params.price === 'free' && room.price !== 0) return false;
  if (params.price === 'paid' && room.price === 0) return false;
  if (params.q && !room.title.toLowerCase().includes(params.q.toLowerCase())) return false;
  // Only the server knows whom the caller follows: those lists are refetched.
  return params.following === undefined;
}

/**
 * `room:live`: a session started. The card goes first into every cached
 * list of live rooms it matches (the lists sort by viewers as they show);
 * the "Following" lists, whose membership only the server knows, are
 * fetched again.
 */
export function addLiveRoom(queryClient: QueryClient, room: Room): void {
  for (const [key, data] of queryClient.getQueriesData<RoomList>({ queryKey: queryKeys.rooms.lists() })) {
    if (!data) continue;
    const params = listParams(key);
    if (params.following !== undefined) {
      void queryClient.invalidateQueries({ queryKey: key, exact: true });
      continue;
    }
    if (!roomMatchesList(room, params)) {
      // An offline list holds the card no more.
      const next = updateList(data, room.id, () => null, params);
      if (next !== data) queryClient.setQueryData<RoomList>(key, next);
      continue;
    }
    const pages = 'pages' in data ? data.pages : [data];
    if (pages.some((page) => page.items.some((r) => r.id === room.id))) continue;
    const first = pages[0];
    if (!first) continue;
    const withRoom: Page<Room> = { ...first, items: [room, ...first.items] };
    const next: RoomList = 'pages' in data ? { ...data, pages: [withRoom, ...data.pages.slice(1)] } : withRoom;
    queryClient.setQueryData<RoomList>(key, next);
  }
}
