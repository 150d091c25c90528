import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { setUserInCache } from '@/lib/auth';
import { queryKeys } from '@/lib/query-keys';
import type { User } from '@/types/api';

export type VerifyEmailResult = {
  user: User;
  /**
   * Sign-up coins this verification gave, when the link belongs to the
   * signed-in user; `null` when it is not known (signed out, or someone
   * else's link).
   */
  coinsAdded: number | null;
};

/** `POST /api/auth/verify-email`: no session needed, the token is the proof. */
export const verifyEmail = (token: string) => body(client.POST('/api/auth/verify-email', { body: { token } }));

export function useVerifyEmail() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (token: string): Promise<VerifyEmailResult> => {
      const before = queryClient.getQueryData<User | null>(queryKeys.me);
      const { user } = await verifyEmail(token);
      if (before?.id !== user.id) return { user, coinsAdded: null };
      return { user, coinsAdded: before.grantPending ? Math.max(user.bonusCoins - before.bonusCoins, 0) : 0 };
    },
    onSuccess: ({ user, coinsAdded }) => {
      // Only the signed-in user's own link changes what the header shows.
      if (coinsAdded === null) return;
      setUserInCache(queryClient, user);
      // The grant is a new ledger entry.
      void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
    },
  });
}
