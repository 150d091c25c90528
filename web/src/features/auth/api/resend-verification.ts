import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client, isApiError } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/**
 * `POST /api/auth/verify-email/resend`: 202 when a new link is on its way,
 * 409 `already_verified`, 429 `rate_limited` (a link went out moments ago).
 */
export const resendVerification = () => body(client.POST('/api/auth/verify-email/resend'));

export function useResendVerification() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: resendVerification,
    onError: (error) => {
      // Verified meanwhile (another tab, another device): the user, and with
      // it the balance, is out of date.
      if (isApiError(error, 'already_verified')) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.me });
        void queryClient.invalidateQueries({ queryKey: queryKeys.balance });
      }
    },
  });
}
