import type { ReactNode } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { errorMessage } from '@/lib/api-client';

type QueryErrorProps = {
  /** What failed ("Your history could not be loaded."). */
  title: string;
  /** The error; its message for a person is shown under the title unless `children` say more. */
  error?: unknown;
  children?: ReactNode;
  /** Runs the request again (usually a query's `refetch`). */
  onRetry: () => unknown;
  /** The retry button's text. */
  retryLabel?: string;
  className?: string;
};

/** A failed request: what failed, why, and "Try again". Announced at once (`role="alert"`). */
export function QueryError({ title, error, onRetry, retryLabel = 'Try again', className, children }: QueryErrorProps) {
  return (
    <Alert
      tone="error"
      title={title}
      className={className}
      action={
        <Button size="sm" variant="secondary" onClick={() => void onRetry()}>
          {retryLabel}
        </Button>
      }
    >
      {children ?? errorMessage(error)}
    </Alert>
  );
}
