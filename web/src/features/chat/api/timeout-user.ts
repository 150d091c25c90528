import { useMutation } from '@tanstack/react-query';

import { emitWithAck } from '@/lib/socket';
import type { ChatUser } from '@/types/api';

/**
 * `chat:timeout` (creator only): the user cannot chat for `seconds`. The
 * server tells the whole room (`chat:timeout`), which is what the log shows.
 */
export const timeoutUser = (roomId: string, userId: string, seconds: number) =>
  emitWithAck('chat:timeout', { roomId, userId, seconds });

export function useTimeoutUser(roomId: string) {
  return useMutation({
    mutationFn: ({ user, seconds }: { user: ChatUser; seconds: number }) => timeoutUser(roomId, user.id, seconds),
  });
}
