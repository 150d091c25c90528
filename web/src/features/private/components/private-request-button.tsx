import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { useCancelSession } from '@/features/private/api/cancel-session';
import { describePrivateError } from '@/features/private/api/describe-error';
import { useCreatorOffer } from '@/features/private/api/get-creator-offer';
import { setSessionInCache, usePrivateSession } from '@/features/private/api/get-session';
import { getSessions } from '@/features/private/api/get-sessions';
import { useRequestSession } from '@/features/private/api/request-session';
import { isApiError } from '@/lib/api-client';
import { useBalance } from '@/lib/balance';
import { formatCoins, formatCountdown, formatNumber } from '@/lib/format';
import { useSecondsLeft } from '@/lib/hooks';
import type { PrivateOffer, PrivateSession, User, UserRef } from '@/types/api';

type Props = {
  creator: UserRef;
  /** The signed-in user; nothing is shown to visitors or to the creator. */
  user: User | null;
};

function minutesFor(balance: number, price: number): number {
  return price > 0 ? Math.floor(balance / price) : 0;
}

function Confirm({
  creator,
  offer,
  balance,
  isPending,
  error,
  onRequest,
  onClose,
}: {
  creator: UserRef;
  offer: PrivateOffer;
  balance: number;
  isPending: boolean;
  error: unknown;
  onRequest: () => void;
  onClose: () => void;
}) {
  const minutes = minutesFor(balance, offer.pricePerMinute);
  const short = balance < offer.pricePerMinute;
  return (
    <div
      role="dialog"
      aria-labelledby="private-confirm-title"
      className="space-y-3 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <p id="private-confirm-title" className="font-semibold">
        A private session with {creator.displayName}
      </p>
      <p className="text-sm text-zinc-700 dark:text-zinc-300">
        Just the two of you, both cameras on. {formatCoins(offer.pricePerMinute)} per minute, charged minute by minute
        from when {creator.displayName} accepts; the last minute only for the seconds used.
      </p>
      <p className="text-sm" data-testid="private-confirm-balance">
        Your balance: <span className="font-semibold">{formatCoins(balance)}</span>
        {' · '}
        {minutes === 1 ? 'enough for about 1 minute' : `enough for about ${formatNumber(minutes)} minutes`}
      </p>
      {short && (
        <p className="text-sm text-amber-800 dark:text-amber-200">
          You need at least {formatCoins(offer.pricePerMinute)} for the first minute.{' '}
          <Link to={paths.wallet.getHref()} className="underline">
            Open your wallet
          </Link>
        </p>
      )}
      {error !== null && error !== undefined && <Alert tone="error">{describePrivateError(error)}</Alert>}
      <div className="flex flex-wrap gap-2">
        <Button onClick={onRequest} isLoading={isPending} disabled={short}>
          Send request
        </Button>
        <Button variant="secondary" onClick={onClose}>
          Not now
        </Button>
      </div>
    </div>
  );
}

function Waiting({ session, onCancel, isCancelling }: { session: PrivateSession; onCancel: () => void; isCancelling: boolean }) {
  const left = useSecondsLeft(session.expiresAt);
  return (
    <div
      role="status"
      data-testid="private-waiting"
      className="flex flex-wrap items-center gap-3 rounded-xl border border-brand-600/40 bg-brand-100/40 p-4 text-sm dark:bg-brand-700/10"
    >
      <p className="min-w-0 flex-1">
        Waiting for {session.creator.displayName} to accept your private session
        {left !== null && left > 0 ? ` (the request expires in ${formatCountdown(left)})` : '…'}
      </p>
      <Button size="sm" variant="secondary" onClick={onCancel} isLoading={isCancelling}>
        Cancel request
      </Button>
    </div>
  );
}

const OUTCOMES: Partial<Record<PrivateSession['state'], (name: string) => string>> = {
  declined: (name) => `${name} declined your private session. No coins were taken.`,
  expired: (name) => `${name} did not answer in time. No coins were taken.`,
};

/** The viewer's open (requested or active) session with this creator, from the first page of their sessions. */
async function findOpenSession(creatorId: string, viewerId: string): Promise<PrivateSession | null> {
  try {
    const { items } = await getSessions(null);
    return (
      items.find(
        (s) =>
          s.creator.id === creatorId && s.viewer.id === viewerId && (s.state === 'requested' || s.state === 'active'),
      ) ?? null
    );
  } catch {
    return null;
  }
}

/**
 * The viewer's way into a private session with a creator who accepts them:
 * the button with the price, a confirmation with the balance in minutes,
 * then waiting (cancellable) until the creator answers. Accepted, the
 * session page opens.
 */
export function PrivateRequestButton({ creator, user }: Props) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const eligible = user !== null && user.id !== creator.id;
  const offer = useCreatorOffer(creator.id, eligible);
  const balance = useBalance() ?? 0;
  const request = useRequestSession();
  const cancel = useCancelSession();
  const [confirming, setConfirming] = useState(false);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const session = usePrivateSession(sessionId).data;

  useEffect(() => {
    if (session?.state === 'active') void navigate(paths.privateSession.getHref(session.id));
  }, [session?.state, session?.id, navigate]);

  if (!eligible) return null;

  if (session?.state === 'requested') {
    return (
      <Waiting
        session={session}
        isCancelling={cancel.isPending}
        onCancel={() => cancel.mutate(session.id, { onSuccess: () => setSessionId(null) })}
      />
    );
  }

  const outcome = session ? OUTCOMES[session.state] : undefined;
  const data = offer.data;
  if (!data?.accepting || data.pricePerMinute <= 0) {
    return outcome ? <Alert tone="info">{outcome(creator.displayName)}</Alert> : null;
  }

  return (
    <div className="space-y-3">
      {outcome && !confirming && <Alert tone="info">{outcome(creator.displayName)}</Alert>}
      {cancel.isError && <Alert tone="error">{describePrivateError(cancel.error)}</Alert>}
      {confirming ? (
        <Confirm
          creator={creator}
          offer={data}
          balance={balance}
          isPending={request.isPending}
          error={request.error}
          onClose={() => {
            setConfirming(false);
            request.reset();
          }}
          onRequest={() =>
            request.mutate(creator.id, {
              onSuccess: (created) => {
                setConfirming(false);
                setSessionId(created.id);
              },
              // Asked before (another tab, a reload): wait for that request again.
              onError: (error) => {
                if (!isApiError(error, 'request_pending')) return;
                void findOpenSession(creator.id, user.id).then((open) => {
                  if (!open) return;
                  setSessionInCache(queryClient, open);
                  setConfirming(false);
                  request.reset();
                  setSessionId(open.id);
                });
              },
            })
          }
        />
      ) : (
        <Button
          variant="secondary"
          onClick={() => {
            setConfirming(true);
            setSessionId(null);
          }}
        >
          Private session · {formatNumber(data.pricePerMinute)} coins/min
        </Button>
      )}
    </div>
  );
}
