import { useMutation, useQueryClient } from '@tanstack/react-query';

import { addSystemLine } from '@/features/chat/hooks/use-chat-log';
import { emitWithAck } from '@/lib/socket';
import type { ChatUser } from '@/types/api';

/** `chat:ban` (creator only): the user leaves the room's chat for good. */
export const banUser = (roomId: string, userId: string) => emitWithAck('chat:ban', { roomId, userId });

export function useBanUser(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (user: ChatUser) => banUser(roomId, user.id),
    onSuccess: (_result, user) => addSystemLine(queryClient, roomId, `You banned ${user.username}`),
  });
}
