import { formatTime } from '@/lib/format';

export type FeedItem = { id: number; text: string; at: string; joined: boolean };

/** Viewers entering and leaving, newest first; announced politely to screen readers. */
export function ViewerFeed({ items }: { items: FeedItem[] }) {
  if (items.length === 0) {
    return <p className="text-sm text-zinc-500 dark:text-zinc-400">Viewers who enter or leave show up here.</p>;
  }
  return (
    <ul aria-live="polite" aria-label="Viewer activity" className="max-h-60 space-y-1 overflow-y-auto text-sm">
      {items.map((item) => (
        <li key={item.id} className="flex items-center gap-2">
          <span aria-hidden="true" className={`size-2 shrink-0 rounded-full ${item.joined ? 'bg-emerald-500' : 'bg-zinc-400'}`} />
          <span className="min-w-0 flex-1 truncate">{item.text}</span>
          <time dateTime={item.at} className="text-xs text-zinc-500 tabular-nums dark:text-zinc-400">
            {formatTime(item.at)}
          </time>
        </li>
      ))}
    </ul>
  );
}
