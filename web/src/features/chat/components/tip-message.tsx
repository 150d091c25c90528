import { Button } from '@/components/ui/button';
import { formatCoins, formatTime } from '@/lib/format';
import type { ChatMessage } from '@/types/api';
import { cn } from '@/utils/cn';

type TipMessageProps = {
  message: ChatMessage;
  mine: boolean;
  /** The creator may remove a tip's words (the coins stay given); absent for everyone else. */
  onDelete?: (() => void) | undefined;
  busy?: boolean;
  /** The creator deleted the tip's words: the tip itself stays. */
  deleted?: boolean;
};

/** A tip in the chat (`kind: "tip"`): highlighted for everyone in the room, with its optional message. */
export function TipMessage({ message, mine, onDelete, busy = false, deleted = false }: TipMessageProps) {
  const amount = message.tip?.amount ?? 0;
  return (
    <li
      className="mx-2 my-1 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm break-words text-amber-950 dark:border-amber-700 dark:bg-amber-950/50 dark:text-amber-100"
      data-kind="tip"
    >
      <span className="mr-1 text-xs text-amber-700 dark:text-amber-300">
        <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
      </span>
      <svg viewBox="0 0 20 20" className="mr-1 inline size-4 align-[-3px] text-amber-600 dark:text-amber-300" aria-hidden="true">
        <circle cx="10" cy="10" r="8" fill="currentColor" opacity="0.3" />
        <circle cx="10" cy="10" r="5" fill="currentColor" />
      </svg>
      <span className={cn('font-semibold', mine && 'text-brand-700 dark:text-brand-100')}>{message.user.username}</span>{' '}
      tipped <span className="font-bold" data-testid="tip-amount">{formatCoins(amount)}</span>
      {deleted ? (
        <span className="ml-1 text-xs italic">(message removed by the creator)</span>
      ) : message.text && (
        <>
          <span aria-hidden="true">: </span>
          <span className="sr-only"> and says </span>
          <span>{message.text}</span>
        </>
      )}
      {onDelete && message.text && (
        <Button
          size="sm"
          variant="ghost"
          className="ml-2 h-6 px-2 text-xs"
          disabled={busy}
          onClick={onDelete}
          aria-label={`Delete the message of ${message.user.username}'s tip`}
        >
          Delete
        </Button>
      )}
    </li>
  );
}
