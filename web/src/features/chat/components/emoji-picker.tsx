import { useId, useRef, useState, type KeyboardEvent } from 'react';

import { EMOJI } from '@/features/chat/utils/emoji';

/**
 * A small emoji picker beside the chat's input: a button opens a grid;
 * arrows move, Enter or Space picks, Escape closes and returns focus.
 */
export function EmojiPicker({ onPick, disabled }: { onPick: (emoji: string) => void; disabled?: boolean }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const trigger = useRef<HTMLButtonElement>(null);
  const buttons = useRef<Array<HTMLButtonElement | null>>([]);
  const COLUMNS = 8;

  const close = () => {
    setOpen(false);
    trigger.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = buttons.current.indexOf(document.activeElement as HTMLButtonElement);
    const focus = (i: number) => buttons.current[(i + EMOJI.length) % EMOJI.length]?.focus();
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key in moves) {
      event.preventDefault();
      focus(index + (moves[event.key] ?? 0));
    }
  };

  return (
    <div className="relative">
      <button
        ref={trigger}
        type="button"
        disabled={disabled}
        aria-label="Insert emoji"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => {
          setOpen((o) => !o);
          requestAnimationFrame(() => buttons.current[0]?.focus());
        }}
        className="flex size-9 items-center justify-center rounded-lg border border-zinc-300 text-lg hover:bg-zinc-100 focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:outline-none disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-800"
      >
        <svg viewBox="0 0 24 24" className="size-5" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
          <circle cx="12" cy="12" r="9" />
          <path d="M8 14s1.5 2 4 2 4-2 4-2" />
          <path d="M9 9h.01M15 9h.01" strokeLinecap="round" strokeWidth="3" />
        </svg>
      </button>
      {open && (
        <div
          id={id}
          role="group"
          aria-label="Emoji"
          className="absolute right-0 bottom-11 z-20 grid w-72 grid-cols-8 gap-1 rounded-lg border border-zinc-200 bg-white p-2 shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
        >
          {EMOJI.map((e, i) => (
            <button
              key={e.code}
              ref={(el) => {
                buttons.current[i] = el;
              }}
              type="button"
              title={`:${e.code}:`}
              aria-label={e.label}
              onKeyDown={onKeyDown}
              onClick={() => {
                onPick(e.emoji);
                close();
              }}
              className="flex size-8 items-center justify-center rounded text-lg hover:bg-zinc-100 focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:outline-none dark:hover:bg-zinc-800"
            >
              {e.emoji}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
