import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';

import { Button } from '@/components/ui/button';
import { QueryError } from '@/components/ui/query-error';
import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { useNotifications } from '@/features/notifications/api/get-notifications';
import { useMarkNotificationsRead } from '@/features/notifications/api/mark-read';
import { formatTime } from '@/lib/format';
import type { Notification } from '@/types/api';
import { cn } from '@/utils/cn';

function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" className="size-5" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}

function NotificationItem({ notification, onOpen }: { notification: Notification; onOpen: () => void }) {
  return (
    <li>
      <Link
        to={paths.room.getHref(notification.roomId)}
        onClick={onOpen}
        className={cn(
          'block rounded-md px-3 py-2 text-sm hover:bg-zinc-100 focus:bg-zinc-100 focus:outline-none dark:hover:bg-zinc-800 dark:focus:bg-zinc-800',
          notification.read ? 'text-zinc-600 dark:text-zinc-400' : 'font-medium text-zinc-900 dark:text-white',
        )}
      >
        {!notification.read && <span className="sr-only">Unread: </span>}
        <span>{notification.creator.displayName}</span> went live: <span>{notification.roomTitle}</span>
        <span className="block text-xs font-normal text-zinc-500">
          <time dateTime={notification.createdAt}>{formatTime(notification.createdAt)}</time>
        </span>
      </Link>
    </li>
  );
}

/**
 * The header's bell: the unread count on it, and a panel of the latest
 * alerts (a followed creator went live) with "Mark all read". Opening an
 * alert marks it read. Escape closes the panel and returns focus.
 */
export function NotificationBell() {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const query = useNotifications(true);
  const markRead = useMarkNotificationsRead();
  const unread = query.data?.unreadCount ?? 0;

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      setOpen(false);
      triggerRef.current?.focus();
    };
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      document.removeEventListener('keydown', onKeyDown);
    };
  }, [open]);

  return (
    <div ref={rootRef} className="relative">
      <button
        ref={triggerRef}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={unread > 0 ? `Notifications, ${unread} unread` : 'Notifications'}
        onClick={() => setOpen((o) => !o)}
        className="relative flex size-9 items-center justify-center rounded-md text-zinc-700 hover:bg-zinc-200/60 focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:outline-none dark:text-zinc-300 dark:hover:bg-zinc-800"
      >
        <BellIcon />
        {unread > 0 && (
          <span
            data-testid="bell-count"
            aria-hidden="true"
            className="absolute -top-0.5 -right-0.5 min-w-5 rounded-full bg-red-600 px-1 text-center text-xs leading-5 font-bold text-white"
          >
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <div
          id={panelId}
          role="region"
          aria-label="Latest notifications"
          className="fixed inset-x-3 top-14 z-30 rounded-xl border sm:absolute sm:inset-x-auto sm:top-auto sm:right-0 sm:mt-2 sm:w-80 border-zinc-200 bg-white p-2 shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
        >
          <div className="flex items-center justify-between px-2 pb-2">
            <h2 className="text-sm font-semibold">Notifications</h2>
            <Button
              size="sm"
              variant="ghost"
              disabled={unread === 0 || markRead.isPending}
              onClick={() => markRead.mutate(undefined)}
            >
              Mark all read
            </Button>
          </div>
          {query.isPending ? (
            <div className="flex justify-center p-4">
              <Spinner label="Loading notifications" />
            </div>
          ) : query.isError ? (
            <QueryError error={query.error} onRetry={() => void query.refetch()} title="Notifications could not be loaded." />
          ) : query.data.items.length === 0 ? (
            <p className="px-3 py-4 text-sm text-zinc-500 dark:text-zinc-400">
              Nothing yet. Follow creators to hear when they go live.
            </p>
          ) : (
            <ul className="max-h-96 space-y-0.5 overflow-y-auto">
              {query.data.items.map((n) => (
                <NotificationItem
                  key={n.id}
                  notification={n}
                  onOpen={() => {
                    setOpen(false);
                    if (!n.read) markRead.mutate([n.id]);
                  }}
                />
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
