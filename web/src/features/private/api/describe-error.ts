import { errorMessage, isApiError } from '@/lib/api-client';
import { formatCoins } from '@/lib/format';

/**
 * A refusal of a private-session call, for a person. The server's own
 * message is kept unless the code says more (the coins that are missing).
 */
export function describePrivateError(error: unknown): string {
  if (isApiError(error, 'insufficient_funds')) {
    const balance = error.number('balance');
    const required = error.number('required');
    if (balance !== undefined && required !== undefined) {
      return `You need at least ${formatCoins(required)} for the first minute; you have ${formatCoins(balance)}.`;
    }
  }
  return errorMessage(error);
}
