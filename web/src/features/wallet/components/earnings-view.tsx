import { Link } from 'react-router';

import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { Skeleton } from '@/components/ui/skeleton';
import { QueryError } from '@/components/ui/query-error';
import { paths } from '@/config/paths';
import { EARNINGS_DAYS, useEarnings } from '@/features/wallet/api/get-earnings';
import { PayoutList } from '@/features/wallet/components/payout-list';
import { PayoutRequest } from '@/features/wallet/components/payout-request';
import { formatNumber } from '@/lib/format';
import type { Earnings } from '@/types/api';

function Figure({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <div className="rounded-lg bg-zinc-100 p-3 dark:bg-zinc-800/60">
      <p className="text-xs text-zinc-600 dark:text-zinc-400">{label}</p>
      <p className="text-2xl font-bold tabular-nums" data-testid={testId}>
        {formatNumber(value)}
      </p>
    </div>
  );
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
/** A `YYYY-MM-DD` day (UTC, as the server counts days). */
function formatDay(date: string): string {
  const parsed = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) ? date : dateFormat.format(parsed);
}

function EarningsByDay({ earnings }: { earnings: Earnings }) {
  // Newest first; days without earnings are left out.
  const days = earnings.days.filter((d) => d.total !== 0).sort((a, b) => b.date.localeCompare(a.date));
  if (days.length === 0) {
    return <EmptyState title={`No earnings in the last ${EARNINGS_DAYS} days`}>Entries and tips you receive show up here.</EmptyState>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm tabular-nums">
        <caption className="sr-only">Earnings by day, in coins</caption>
        <thead>
          <tr className="border-b border-zinc-200 text-left text-xs text-zinc-500 dark:border-zinc-800">
            <th scope="col" className="py-2 pr-3 font-medium">Day</th>
            <th scope="col" className="py-2 pr-3 text-right font-medium">Entries</th>
            <th scope="col" className="py-2 pr-3 text-right font-medium">Tips</th>
            <th scope="col" className="py-2 pr-3 text-right font-medium">Private</th>
            <th scope="col" className="py-2 text-right font-medium">Total</th>
          </tr>
        </thead>
        <tbody>
          {days.map((d) => (
            <tr key={d.date} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800/60">
              <th scope="row" className="py-2 pr-3 text-left font-normal">
                <time dateTime={d.date}>{formatDay(d.date)}</time>
              </th>
              <td className="py-2 pr-3 text-right">{formatNumber(d.streamJoin)}</td>
              <td className="py-2 pr-3 text-right">{formatNumber(d.tip)}</td>
              <td className="py-2 pr-3 text-right">{formatNumber(d.private)}</td>
              <td className="py-2 text-right font-semibold">{formatNumber(d.total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A creator's earnings by day and by source, what can be paid out, and payouts. */
export function EarningsView() {
  const query = useEarnings();
  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-2xl font-bold tracking-tight">Earnings and payouts</h1>
        <Link to={paths.wallet.getHref()} className="text-sm font-medium text-brand-700 underline dark:text-brand-100">
          Wallet
        </Link>
      </div>
      {query.isPending ? (
        <div className="space-y-3" aria-busy="true" aria-label="Loading earnings">
          <Skeleton className="h-28 w-full" />
          <Skeleton className="h-48 w-full" />
        </div>
      ) : query.isError ? (
        <QueryError title="Earnings could not be loaded." error={query.error} onRetry={query.refetch} />
      ) : (
        <>
          <Card title="Payouts">
            <div className="grid gap-3 sm:grid-cols-3">
              <Figure label="Payable now" value={query.data.payable} testId="earnings-payable" />
              <Figure label="Held for a request" value={query.data.held} testId="earnings-held" />
              <Figure label="Paid out" value={query.data.paidOut} testId="earnings-paid-out" />
            </div>
            <p className="mt-3 text-xs text-zinc-600 dark:text-zinc-400">
              Payable is what you earned, less what was paid out or is held, never more than your balance. Coins
              viewers paid from their sign-up bonus count in your earnings but are not paid out.
            </p>
            <div className="mt-4">
              <PayoutRequest earnings={query.data} />
            </div>
          </Card>
          <Card title={`Last ${EARNINGS_DAYS} days`}>
            <div className="mb-4 grid gap-3 sm:grid-cols-4">
              <Figure label="Entries" value={query.data.totals.streamJoin} testId="earnings-stream-join" />
              <Figure label="Tips" value={query.data.totals.tip} testId="earnings-tip" />
              <Figure label="Private sessions" value={query.data.totals.private} testId="earnings-private" />
              <Figure label="Total" value={query.data.totals.total} testId="earnings-total" />
            </div>
            <EarningsByDay earnings={query.data} />
          </Card>
        </>
      )}
      <section aria-labelledby="payouts-heading" className="space-y-3">
        <h2 id="payouts-heading" className="text-lg font-semibold">
          Payout requests
        </h2>
        <PayoutList />
      </section>
    </div>
  );
}
