import type { Room } from '@/types/api';

/** How a grid orders its cards as they change live. */
export type RoomSort = 'viewers' | 'newest';

/** Most viewers first (ties: the newest session), or the newest session first. */
export function sortRooms(rooms: Room[], sort: RoomSort): Room[] {
  const started = (room: Room) => room.startedAt ?? '';
  return [...rooms].sort((a, b) =>
    sort === 'viewers'
      ? b.viewerCount - a.viewerCount || started(b).localeCompare(started(a))
      : started(b).localeCompare(started(a)) || b.viewerCount - a.viewerCount,
  );
}
