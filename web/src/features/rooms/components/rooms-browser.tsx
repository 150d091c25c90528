import { useState } from 'react';
import { useSearchParams } from 'react-router';

import { homeRoomLists, priceParam } from '@/features/rooms/api/get-rooms';
import { NoRooms, RoomsGrid } from '@/features/rooms/components/rooms-grid';
import { RoomsFilters } from '@/features/rooms/components/rooms-filters';
import { EmptyState } from '@/components/ui/empty-state';
import { useUser } from '@/lib/auth';
import { useDebouncedValue } from '@/lib/hooks';
import { useLobby } from '@/lib/room-watch';

/**
 * The first row of live cards at the widest grid (4 columns): above the fold,
 * so their thumbnails load at once and first; the rest wait until scrolled to.
 */
const EAGER_CARDS = 4;

/**
 * The home page: the live rooms of the creators the user follows, then every
 * live room, then offline rooms; search, category, price and order in the
 * URL. Everyone, signed in or not, is in the lobby: rooms going live,
 * viewer counts, edits, away/back and ends update the cards as they happen,
 * with no polling.
 */
export function RoomsBrowser() {
  const { data: user } = useUser();
  useLobby(true);
  const [searchParams, setSearchParams] = useSearchParams();
  const category = searchParams.get('category') ?? '';
  const price = priceParam(searchParams.get('price')) ?? '';
  const sort = searchParams.get('sort') === 'newest' ? 'newest' : 'viewers';
  const [q, setQ] = useState(() => searchParams.get('q') ?? '');
  const debouncedQ = useDebouncedValue(q.trim(), 300);

  const update = (next: { q?: string; category?: string; price?: string; sort?: string }) => {
    const params = new URLSearchParams(searchParams);
    for (const [key, value] of Object.entries(next)) {
      if (value) params.set(key, value);
      else params.delete(key);
    }
    setSearchParams(params, { replace: true });
  };

  const lists = homeRoomLists({ q: debouncedQ, category, price: price || undefined });
  const filtered = Boolean(debouncedQ || category || price);

  return (
    <div className="space-y-8">
      <div className="space-y-4">
        <h1 id="live-heading" className="text-2xl font-bold tracking-tight">
          Live now
        </h1>
        <RoomsFilters
          q={q}
          category={category}
          price={price}
          sort={sort}
          onQChange={(value) => {
            setQ(value);
            update({ q: value.trim() });
          }}
          onCategoryChange={(value) => update({ category: value })}
          onPriceChange={(value) => update({ price: value })}
          onSortChange={(value) => update({ sort: value === 'viewers' ? '' : value })}
        />
      </div>
      {user && (
        <RoomsGrid
          params={lists.following}
          sort={sort}
          heading="Following"
          headingId="following-heading"
          skeletons={4}
          empty={
            <EmptyState title="None of the creators you follow is live">
              Follow creators from their page to see them here first.
            </EmptyState>
          }
        />
      )}
      <RoomsGrid
        params={lists.live}
        sort={sort}
        eagerCards={EAGER_CARDS}
        headingId="live-heading"
        empty={<NoRooms filtered={filtered} live />}
      />
      <RoomsGrid
        params={lists.offline}
        heading="Offline rooms"
        headingId="offline-heading"
        skeletons={4}
        empty={<NoRooms filtered={filtered} live={false} />}
      />
    </div>
  );
}
