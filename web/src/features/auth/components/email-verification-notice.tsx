import { useState } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { ResendVerification } from '@/features/auth/components/resend-verification';
import type { User } from '@/types/api';

/** The user who dismissed the notice in this tab: it stays away until the tab closes. */
const DISMISSED_KEY = 'streamshare.verifyNoticeDismissed';

function wasDismissed(userId: string): boolean {
  try {
    return sessionStorage.getItem(DISMISSED_KEY) === userId;
  } catch {
    return false;
  }
}

function rememberDismissed(userId: string): void {
  try {
    sessionStorage.setItem(DISMISSED_KEY, userId);
  } catch {
    // Storage can be disabled: dismissed for this page only.
  }
}

/**
 * Asks a user whose sign-up coins wait for a verified e-mail address
 * (`grantPending`) to follow the link, and offers a new one. Mount it with
 * `key={user.id}`, so another account starts afresh.
 */
export function EmailVerificationNotice({ user }: { user: User }) {
  const [dismissed, setDismissed] = useState(() => wasDismissed(user.id));
  // Once a resend was asked for, its outcome stays in view even when it
  // turns out the address was verified meanwhile (409 refreshes the user).
  const [engaged, setEngaged] = useState(false);
  if (dismissed || !(user.grantPending || engaged)) return null;

  return (
    <Alert
      tone="warning"
      className="mb-4"
      title="Confirm your e-mail address to receive your sign-up coins."
      action={
        <Button
          size="sm"
          variant="ghost"
          aria-label="Dismiss"
          onClick={() => {
            rememberDismissed(user.id);
            setDismissed(true);
          }}
        >
          <svg viewBox="0 0 20 20" className="size-4" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
            <path d="M5 5l10 10M15 5L5 15" strokeLinecap="round" />
          </svg>
        </Button>
      }
    >
      <p>Open the link we e-mailed you when you signed up.</p>
      <ResendVerification className="mt-2" onAttempt={() => setEngaged(true)} />
    </Alert>
  );
}
