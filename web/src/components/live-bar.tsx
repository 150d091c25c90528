import { Link, useLocation } from 'react-router';

import { paths } from '@/config/paths';
import { useBroadcast } from '@/lib/broadcast/use-broadcast';
import { formatViewers } from '@/lib/format';

/**
 * "You are live": shown on every page but the room's studio while this
 * browser publishes, with a way back to the studio.
 */
export function LiveBar() {
  const broadcast = useBroadcast();
  const { pathname } = useLocation();
  if (!broadcast.publishing || !broadcast.roomId) return null;
  const studio = paths.studioRoom.getHref(broadcast.roomId);
  if (pathname === studio) return null;
  return (
    <section
      aria-label="Your broadcast"
      data-testid="live-bar"
      className="sticky top-16 z-10 mb-4 rounded-lg bg-red-700 text-white shadow"
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-sm">
        <span className="size-2 shrink-0 rounded-full bg-white motion-safe:animate-pulse" aria-hidden="true" />
        <p className="min-w-0 flex-1 truncate">
          <strong>You are live</strong>
          {broadcast.roomTitle && <> in “{broadcast.roomTitle}”</>}
          {broadcast.viewerCount !== null && <> · {formatViewers(broadcast.viewerCount)}</>}
          {broadcast.muted && ' · microphone muted'}
          {broadcast.cameraOff && ' · camera off'}
        </p>
        <Link to={studio} className="rounded-md bg-white px-3 py-1 font-medium text-red-800 hover:bg-red-50">
          Back to the studio
        </Link>
      </div>
    </section>
  );
}
