import type { InfiniteData } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';

import { queryKeys } from '@/lib/query-keys';
import { mergeRoomIntoCache, roomAwayUntil, setRoomAway, setRoomEnded } from '@/lib/room-cache';
import { aRoom } from '@/testing/data';
import { createTestQueryClient } from '@/testing/render';
import type { Page, Room } from '@/types/api';

const page = (...items: Room[]): Page<Room> => ({ items, nextCursor: null });
const infinite = (...items: Room[]): InfiniteData<Page<Room>> => ({ pages: [page(...items)], pageParams: [null] });

function seeded() {
  const queryClient = createTestQueryClient();
  const live = queryKeys.rooms.list({ status: 'live', limit: 24 });
  // The studio's own rooms: one page, not an infinite query.
  const mine = queryKeys.rooms.list({ creatorId: 'u-creator', limit: 100 });
  queryClient.setQueryData(queryKeys.rooms.detail('r-1'), aRoom({ access: 'locked' }));
  queryClient.setQueryData(live, infinite(aRoom(), aRoom({ id: 'r-2' })));
  queryClient.setQueryData(mine, page(aRoom()));
  const get = {
    detail: () => queryClient.getQueryData<Room>(queryKeys.rooms.detail('r-1')),
    live: () => queryClient.getQueryData<InfiniteData<Page<Room>>>(live)!.pages[0].items,
    mine: () => queryClient.getQueryData<Page<Room>>(mine)!.items,
  };
  return { queryClient, get };
}

describe('room cache', () => {
  it('marks a room away and back in its detail and every list, whatever the list shape', () => {
    const { queryClient, get } = seeded();
    setRoomAway(queryClient, 'r-1', '2099-01-01T00:00:00Z');
    expect(get.detail()?.awayUntil).toBe('2099-01-01T00:00:00Z');
    expect(get.live().map((r) => r.awayUntil)).toEqual(['2099-01-01T00:00:00Z', null]);
    expect(get.mine()[0]?.awayUntil).toBe('2099-01-01T00:00:00Z');

    setRoomAway(queryClient, 'r-1', null);
    expect(get.detail()?.awayUntil).toBeNull();
    expect(get.live()[0]?.awayUntil).toBeNull();
  });

  it('takes an ended room out of the live lists and marks it offline elsewhere', () => {
    const { queryClient, get } = seeded();
    setRoomEnded(queryClient, 'r-1');
    expect(get.live().map((r) => r.id)).toEqual(['r-2']);
    expect(get.mine()[0]).toMatchObject({ status: 'offline', liveSessionId: null, awayUntil: null });
    expect(get.detail()).toMatchObject({ status: 'offline', viewerCount: 0, access: 'locked' });
  });

  it("keeps the caller's access when a room comes from the socket", () => {
    const { queryClient, get } = seeded();
    mergeRoomIntoCache(queryClient, aRoom({ viewerCount: 9, awayUntil: '2099-01-01T00:00:00Z' }));
    expect(get.detail()).toMatchObject({ access: 'locked', viewerCount: 9, awayUntil: '2099-01-01T00:00:00Z' });
  });

  it('counts a room as away only while it is live, and never on a missing field', () => {
    expect(roomAwayUntil(aRoom({ awayUntil: '2099-01-01T00:00:00Z' }))).toBe('2099-01-01T00:00:00Z');
    expect(roomAwayUntil(aRoom({ status: 'offline', awayUntil: '2099-01-01T00:00:00Z' }))).toBeNull();
    const { awayUntil: _, ...fromAnOlderServer } = aRoom();
    expect(roomAwayUntil(fromAnOlderServer as Room)).toBeNull();
  });
});
