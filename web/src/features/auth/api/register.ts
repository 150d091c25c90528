import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { startSession } from '@/lib/auth';

export type RegisterInput = {
  username: string;
  email: string;
  password: string;
  displayName?: string;
};

export const register = (input: RegisterInput) => body(client.POST('/api/auth/register', { body: input }));

export function useRegister({ onSuccess }: { onSuccess?: () => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: register,
    onSuccess: (data) => {
      startSession(queryClient, data);
      onSuccess?.();
    },
  });
}
