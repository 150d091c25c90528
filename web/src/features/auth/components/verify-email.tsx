import { useEffect, useRef } from 'react';

import { Alert } from '@/components/ui/alert';
import { Link } from '@/components/ui/link';
import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { useVerifyEmail, type VerifyEmailResult } from '@/features/auth/api/verify-email';
import { ResendVerification } from '@/features/auth/components/resend-verification';
import { errorMessage } from '@/lib/api-client';
import { useUser } from '@/lib/auth';
import { formatCoins } from '@/lib/format';

function Verified({ result }: { result: VerifyEmailResult }) {
  const { user, coinsAdded } = result;
  return (
    <Alert tone="success" title="Your e-mail address is verified.">
      {coinsAdded === null ? (
        <p>
          {user.coins > 0 && <>Your account has {formatCoins(user.coins)}. </>}
          <Link to={paths.login.getHref(paths.wallet.getHref())}>Log in</Link> to start watching.
        </p>
      ) : (
        <>
          {coinsAdded > 0 && (
            <p data-testid="verify-coins-added">
              {formatCoins(coinsAdded)} of sign-up bonus {coinsAdded === 1 ? 'was' : 'were'} added to your balance.
            </p>
          )}
          <p className="mt-1">
            <Link to={paths.home.getHref()}>Browse live streams</Link> or{' '}
            <Link to={paths.wallet.getHref()}>open your wallet</Link>.
          </p>
        </>
      )}
    </Alert>
  );
}

/** How to get a working link: ask for one when signed in, else sign in first. */
function NewLinkOffer() {
  const { data: me } = useUser();
  if (me?.emailVerified) return <p className="mt-2">Your e-mail address is already verified: nothing more to do.</p>;
  if (me) return <ResendVerification className="mt-2" />;
  return (
    <p className="mt-2">
      <Link to={paths.login.getHref(paths.home.getHref())}>Log in</Link> to ask for a new link.
    </p>
  );
}

/**
 * The page an e-mailed verification link opens (`/verify-email?token=...`):
 * posts the token once and says what came of it. Works signed in or out.
 */
export function VerifyEmail({ token }: { token: string | null }) {
  const { isPending: userPending } = useUser();
  const { mutate, data, error, isIdle, isPending } = useVerifyEmail();
  // A link works once: StrictMode's second effect run (and any re-render)
  // must not post the same token again, which would answer "already used".
  const posted = useRef<string | null>(null);

  useEffect(() => {
    // Wait for the session, so the answer lands in the right user's cache
    // rather than under a `me` request still in flight.
    if (!token || userPending || posted.current === token) return;
    posted.current = token;
    mutate(token);
  }, [token, userPending, mutate]);

  if (!token) {
    return (
      <Alert tone="error" title="This link is incomplete.">
        <p>Open the link from the e-mail again, or ask for a new one.</p>
        <NewLinkOffer />
      </Alert>
    );
  }
  if (data) return <Verified result={data} />;
  if (error) {
    return (
      <Alert tone="error" title="Your e-mail address could not be verified.">
        <p>{errorMessage(error)}</p>
        <NewLinkOffer />
      </Alert>
    );
  }
  return (
    <div className="flex justify-center py-8" aria-busy={isIdle || isPending}>
      <Spinner label="Verifying your e-mail address" />
    </div>
  );
}
