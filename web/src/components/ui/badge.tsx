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
