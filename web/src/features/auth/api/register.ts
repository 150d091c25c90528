import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { startSession } from '@/lib/auth';
import type { AuthResponse } from '@/types/api';

export type RegisterInput = {
  username: string;
  email: string;
  password: string;
  displayName?: string;
};

export const register = (input: RegisterInput) => api.post<AuthResponse>('/auth/register', input);

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
