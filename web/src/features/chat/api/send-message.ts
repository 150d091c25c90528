import { useMutation, useQueryClient } from '@tanstack/react-query';

import { addMessage } from '@/features/chat/hooks/use-chat-log';
import { emitWithAck } from '@/lib/socket';

/** `chat:send` over Socket.IO; the acknowledged message shows at once (the broadcast is deduplicated). */
export const sendMessage = (roomId: string, text: string) => emitWithAck('chat:send', { roomId, text });

export function useSendMessage(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (text: string) => sendMessage(roomId, text),
    onSuccess: ({ message }) => addMessage(queryClient, message),
  });
}
