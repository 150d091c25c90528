import { Link } from 'react-router';

import { paths } from '@/config/paths';
import { formatDateTime, formatNumber } from '@/lib/format';
import type { Transaction } from '@/types/api';
import { cn } from '@/utils/cn';

/** Debit or credit, relative to the signed-in user: paying out is a debit. */
function direction(tx: Transaction, meId: string): 'debit' | 'credit' {
  return tx.fromUserId === meId ? 'debit' : 'credit';
}

function describe(tx: Transaction, debit: boolean): string {
  if (tx.kind === 'grant') return 'Welcome coins';
  if (tx.kind === 'purchase') return 'Coins bought';
  if (tx.kind === 'purchase_refund') return 'Purchase refunded';
  if (tx.kind === 'payout_hold') return 'Payout requested (held)';
  if (tx.kind === 'payout_release') return 'Payout rejected: coins back';
  if (tx.kind === 'tip') {
    const what = debit ? 'Tip' : 'Tip from a viewer';
    return tx.roomTitle ? `${what} · ${tx.roomTitle}` : what;
  }
  if (tx.kind === 'refund') {
    // Paid back by the creator: a credit for the viewer, a debit for the creator.
    const what = debit ? 'Refund to a viewer' : 'Refund';
    return tx.roomTitle ? `${what} · ${tx.roomTitle}` : what;
  }
  // A private session (issue 17): a minute held, charged, or its unused rest given back.
  if (tx.kind === 'private_hold') return 'Private session · minute held';
  if (tx.kind === 'private_charge') return debit ? 'Private session' : 'Private session with a viewer';
  if (tx.kind === 'private_release') return 'Private session · unused coins back';
  if (debit) return 'Entry to a live stream';
  return 'A viewer paid to watch';
}

/** Why a refund happened: the session died before the viewer got the picture. */
function refundReason(debit: boolean): string {
  return debit ? "A viewer's entry, given back" : 'The stream ended before you saw it';
}

export function TransactionRow({ tx, meId }: { tx: Transaction; meId: string }) {
  const debit = direction(tx, meId) === 'debit';
  return (
    <li className="flex items-center gap-3 px-4 py-3" data-direction={debit ? 'debit' : 'credit'}>
      <span
        aria-hidden="true"
        className={cn(
          'flex size-9 shrink-0 items-center justify-center rounded-full text-lg font-bold',
          debit
            ? 'bg-red-100 text-red-700 dark:bg-red-950 dark:text-red-300'
            : 'bg-emerald-100 text-emerald-700 dark:bg-emerald-950 dark:text-emerald-300',
        )}
      >
        {debit ? '−' : '+'}
      </span>
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-medium">{describe(tx, debit)}</p>
        <p className="truncate text-xs text-zinc-500 dark:text-zinc-400">
          {tx.kind === 'refund' ? (
            <>
              {refundReason(debit)}
              {' · '}
            </>
          ) : tx.kind === 'tip' && tx.message ? (
            <>
              “{tx.message}”{' · '}
            </>
          ) : tx.roomTitle && tx.roomId ? (
            <>
              <Link to={paths.room.getHref(tx.roomId)} className="underline-offset-2 hover:underline">
                {tx.roomTitle}
              </Link>
              {' · '}
            </>
          ) : null}
          <time dateTime={tx.createdAt}>{formatDateTime(tx.createdAt)}</time>
        </p>
      </div>
      <p
        className={cn(
          'shrink-0 text-sm font-semibold tabular-nums',
          debit ? 'text-red-700 dark:text-red-300' : 'text-emerald-700 dark:text-emerald-300',
        )}
      >
        <span className="sr-only">{debit ? 'Debit' : 'Credit'} </span>
        {debit ? '−' : '+'}
        {formatNumber(tx.amount)}
        <span className="sr-only"> coins</span>
      </p>
    </li>
  );
}
