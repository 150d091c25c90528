import { Button } from '@/components/ui/button';
import { useResendVerification } from '@/features/auth/api/resend-verification';
import { errorMessage, isApiError } from '@/lib/api-client';
import { cn } from '@/utils/cn';

/** What came of a resend, for a person: sent, already done, too soon, or failed. */
function outcome(resend: ReturnType<typeof useResendVerification>): { tone: 'ok' | 'error'; text: string } | null {
  if (resend.isSuccess) return { tone: 'ok', text: 'A new link is on its way. Check your inbox (and the spam folder).' };
  if (!resend.isError) return null;
  // 409 `already_verified` is good news; 429 says when to ask again.
  if (isApiError(resend.error, 'already_verified')) return { tone: 'ok', text: resend.error.message };
  return { tone: 'error', text: errorMessage(resend.error) };
}

/** "Send the link again" (an e-mail verification link), and its outcome. */
export function ResendVerification({ onAttempt, className }: { onAttempt?: () => void; className?: string }) {
  const resend = useResendVerification();
  const result = outcome(resend);
  return (
    <div className={cn('flex flex-wrap items-center gap-x-3 gap-y-2', className)}>
      <Button
        size="sm"
        variant="secondary"
        isLoading={resend.isPending}
        onClick={() => {
          onAttempt?.();
          resend.mutate();
        }}
      >
        Send the link again
      </Button>
      {result && (
        <p
          role={result.tone === 'error' ? 'alert' : 'status'}
          className={cn(result.tone === 'error' && 'text-red-700 dark:text-red-300')}
        >
          {result.text}
        </p>
      )}
    </div>
  );
}
