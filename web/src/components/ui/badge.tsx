import type { ReactNode } from 'react';

import { cn } from '@/utils/cn';

const tones = {
  live: 'bg-red-600 text-white',
  neutral: 'bg-zinc-200 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200',
  dark: 'bg-black/70 text-white',
  warning: 'bg-amber-400 text-amber-950',
  brand: 'bg-brand-100 text-brand-700 dark:bg-brand-700/30 dark:text-brand-100',
} as const;

export function Badge({
  tone = 'neutral',
  children,
  className,
}: {
  tone?: keyof typeof tones;
  children: ReactNode;
  className?: string;
}) {
  return (
    <span className={cn('inline-flex items-center gap-1 rounded px-1.5 py-0.5 text-xs font-semibold', tones[tone], className)}>
      {children}
    </span>
  );
}

export function LiveBadge({ className }: { className?: string }) {
  return (
    <Badge tone="live" className={cn('uppercase tracking-wide', className)}>
      <span className="size-1.5 rounded-full bg-white" aria-hidden="true" />
      Live
    </Badge>
  );
}

/** An end-to-end encrypted room (docs/e2ee.md); `compact`: the lock only (room cards). */
export function EncryptedBadge({ className, compact = false }: { className?: string; compact?: boolean }) {
  return (
    <Badge tone={compact ? 'dark' : 'brand'} className={className}>
      <svg viewBox="0 0 16 16" className="size-3" fill="currentColor" aria-hidden="true">
        <path d="M8 1a3.5 3.5 0 0 0-3.5 3.5V7H4a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 8 1Zm2 6H6V4.5a2 2 0 1 1 4 0V7Z" />
      </svg>
      <span className={compact ? 'sr-only' : undefined} data-testid="e2ee-badge">
        End-to-end encrypted
      </span>
    </Badge>
  );
}
