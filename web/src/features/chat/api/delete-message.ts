import { useMutation, useQueryClient } from '@tanstack/react-query';

import { markDeleted } from '@/features/chat/hooks/use-chat-log';
import { emitWithAck } from '@/lib/socket';

/** `chat:delete` (creator only); everyone gets `chat:deleted`. */
export const deleteMessage = (roomId: string, messageId: string) =>
  emitWithAck('chat:delete', { roomId, messageId });

export function useDeleteMessage(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (messageId: string) => deleteMessage(roomId, messageId),
    onSuccess: (_result, messageId) => markDeleted(queryClient, roomId, messageId),
  });
}
