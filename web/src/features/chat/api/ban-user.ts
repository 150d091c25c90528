import { useMutation } from '@tanstack/react-query';

import { emitWithAck } from '@/lib/socket';
import type { ChatUser } from '@/types/api';

/**
 * `chat:ban` (creator only): the user is taken out of the room and cannot
 * come back. The server tells the whole room (`chat:ban`).
 */
export const banUser = (roomId: string, userId: string) => emitWithAck('chat:ban', { roomId, userId });

export function useBanUser(roomId: string) {
  return useMutation({
    mutationFn: (user: ChatUser) => banUser(roomId, user.id),
  });
}
