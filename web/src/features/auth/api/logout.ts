import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { endSession } from '@/lib/auth';

export const logout = () => body(client.POST('/api/auth/logout'));

export function useLogout({ onSuccess }: { onSuccess?: () => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: logout,
    // Signed out locally even when the server could not be told.
    onSettled: () => {
      endSession(queryClient);
      onSuccess?.();
    },
  });
}
