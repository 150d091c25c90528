import { Link } from 'react-router';

import { Badge, EncryptedBadge, LiveBadge } from '@/components/ui/badge';
import { Skeleton } from '@/components/ui/skeleton';
import { paths } from '@/config/paths';
import { formatNumber, formatPrice } from '@/lib/format';
import { roomAwayUntil } from '@/lib/room-cache';
import type { Room } from '@/types/api';

/** A thumbnail's intrinsic size (the studio uploads 640 px wide, 16:9): reserves its box before it loads. */
const THUMB_WIDTH = 640;
const THUMB_HEIGHT = 360;

/**
 * A room's card. `aboveFold` (the first row): the thumbnail is the page's
 * largest paint, so it loads now and at high priority rather than lazily.
 */
export function RoomCard({ room, aboveFold = false }: { room: Room; aboveFold?: boolean }) {
  const live = room.status === 'live';
  // The creator's media dropped: nothing can be paid until it is back.
  const away = roomAwayUntil(room) !== null;
  return (
    <article className="group relative overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm transition-shadow focus-within:ring-2 focus-within:ring-brand-500 hover:shadow-md dark:border-zinc-800 dark:bg-zinc-900">
      <div className="relative aspect-video bg-gradient-to-br from-brand-500 to-zinc-800">
        {room.thumbnailUrl ? (
          <img
            src={room.thumbnailUrl}
            alt=""
            width={THUMB_WIDTH}
            height={THUMB_HEIGHT}
            loading={aboveFold ? 'eager' : 'lazy'}
            fetchPriority={aboveFold ? 'high' : 'auto'}
            className={`size-full object-cover ${live ? '' : 'opacity-70 grayscale'}`}
          />
        ) : (
          <span aria-hidden="true" className="absolute inset-0 flex items-center justify-center text-4xl font-bold text-white/80 uppercase">
            {room.title.slice(0, 1)}
          </span>
        )}
        <div className="absolute top-2 left-2 flex items-center gap-1.5">
          {live ? (
            <>
              <LiveBadge />
              {room.inPrivate ? (
                <Badge tone="warning">In a private session</Badge>
              ) : (
                away && (
                  <Badge tone="warning">
                    <span data-testid="room-away">Reconnecting</span>
                  </Badge>
                )
              )}
              <Badge tone="dark">
                <span className="sr-only">Viewers: </span>
                <span data-testid="viewer-count">{formatNumber(room.viewerCount)}</span>
                <span aria-hidden="true"> watching</span>
              </Badge>
            </>
          ) : (
            <Badge tone="dark">Offline</Badge>
          )}
          {room.e2ee && <EncryptedBadge compact />}
        </div>
        <Badge tone={room.price === 0 ? 'brand' : 'dark'} className="absolute right-2 bottom-2">
          <span className="sr-only">Price: </span>
          {formatPrice(room.price)}
        </Badge>
      </div>
      <div className="space-y-1 p-3">
        <h3 className="line-clamp-2 text-sm font-semibold">
          {/* The link covers the whole card; one tab stop per card. */}
          <Link to={paths.room.getHref(room.id)} className="after:absolute after:inset-0 focus:outline-none">
            {room.title}
          </Link>
        </h3>
        <p className="truncate text-sm text-zinc-600 dark:text-zinc-400">
          {/* Above the card's link: its own tab stop, to the creator's page. */}
          <Link to={paths.creator.getHref(room.creator.username)} className="relative z-10 hover:underline">
            {room.creator.displayName}
          </Link>
        </p>
        {room.category && (
          <p className="text-xs text-zinc-500 capitalize dark:text-zinc-400">{room.category}</p>
        )}
      </div>
    </article>
  );
}

export function RoomCardSkeleton() {
  return (
    <div className="overflow-hidden rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
      <Skeleton className="aspect-video rounded-none" />
      <div className="space-y-2 p-3">
        <Skeleton className="h-4 w-3/4" />
        <Skeleton className="h-3 w-1/2" />
      </div>
    </div>
  );
}
