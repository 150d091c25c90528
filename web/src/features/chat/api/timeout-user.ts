import { useMutation, useQueryClient } from '@tanstack/react-query';

import { addSystemLine, formatSeconds } from '@/features/chat/hooks/use-chat-log';
import { emitWithAck } from '@/lib/socket';
import type { ChatUser } from '@/types/api';

/** `chat:timeout` (creator only): the user cannot chat for `seconds`. */
export const timeoutUser = (roomId: string, userId: string, seconds: number) =>
  emitWithAck('chat:timeout', { roomId, userId, seconds });

export function useTimeoutUser(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ user, seconds }: { user: ChatUser; seconds: number }) => timeoutUser(roomId, user.id, seconds),
    onSuccess: (_result, { user, seconds }) =>
      addSystemLine(queryClient, roomId, `You timed out ${user.username} for ${formatSeconds(seconds)}`),
  });
}
