import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';

import { queryKeys } from '@/lib/query-keys';
import type { RoomChannel } from '@/lib/room-channel';
import { useSocketEvent } from '@/lib/socket';
import type { ChatMessage } from '@/types/api';

export type SystemLine = { kind: 'system'; id: string; text: string; at: string };
export type MessageLine = { kind: 'message'; id: string; message: ChatMessage; deleted: boolean };
export type ChatLine = SystemLine | MessageLine;

/** What arrived live in a room, kept in the query cache under `['chat', roomId]`. */
export type ChatLog = {
  /** Messages and system lines in arrival order. */
  lines: Array<{ kind: 'message'; id: string; message: ChatMessage } | SystemLine>;
  /** Messages the creator deleted (live or from the history). */
  deleted: string[];
};

const EMPTY: ChatLog = { lines: [], deleted: [] };
/** Older lines fall off; the panel is a live view, not an archive. */
const MAX_LINES = 300;

let systemSeq = 0;

export function updateChatLog(queryClient: QueryClient, roomId: string, update: (log: ChatLog) => ChatLog): void {
  queryClient.setQueryData<ChatLog>(queryKeys.chat(roomId), (log) => update(log ?? EMPTY));
}

export function addMessage(queryClient: QueryClient, message: ChatMessage): void {
  updateChatLog(queryClient, message.roomId, (log) =>
    log.lines.some((l) => l.kind === 'message' && l.id === message.id)
      ? log
      : { ...log, lines: [...log.lines, { kind: 'message' as const, id: message.id, message }].slice(-MAX_LINES) },
  );
}

export function addSystemLine(queryClient: QueryClient, roomId: string, text: string): void {
  systemSeq += 1;
  const line: SystemLine = { kind: 'system', id: `system-${systemSeq}`, text, at: new Date().toISOString() };
  updateChatLog(queryClient, roomId, (log) => ({ ...log, lines: [...log.lines, line].slice(-MAX_LINES) }));
}

export function markDeleted(queryClient: QueryClient, roomId: string, messageId: string): void {
  updateChatLog(queryClient, roomId, (log) =>
    log.deleted.includes(messageId) ? log : { ...log, deleted: [...log.deleted, messageId] },
  );
}

function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The history from the join, then what arrived live; the same message never twice. */
export function mergeChat(history: ChatMessage[], log: ChatLog): ChatLine[] {
  const live = new Set(log.lines.filter((l) => l.kind === 'message').map((l) => l.id));
  const deleted = new Set(log.deleted);
  const lines: ChatLine[] = history
    .filter((m) => !live.has(m.id))
    .map((message) => ({ kind: 'message', id: message.id, message, deleted: deleted.has(message.id) }));
  for (const line of log.lines) {
    lines.push(line.kind === 'message' ? { ...line, deleted: deleted.has(line.id) } : line);
  }
  return lines;
}

/**
 * The chat of a joined room: history from the `room:join` answer, plus
 * messages, deletions, moderation notices and viewers entering and leaving
 * as the server pushes them.
 */
export function useChatLog(roomId: string, channel: RoomChannel | undefined, currentUserId: string | undefined) {
  const queryClient = useQueryClient();
  const { data: log = EMPTY } = useQuery({
    queryKey: queryKeys.chat(roomId),
    // Written by socket events only; "fetching" just reads what is there.
    queryFn: () => queryClient.getQueryData<ChatLog>(queryKeys.chat(roomId)) ?? EMPTY,
    staleTime: Infinity,
    enabled: channel !== undefined,
  });

  const mine = (id: string) => id === roomId && channel !== undefined;

  useSocketEvent('chat:message', (message) => {
    if (mine(message.roomId)) addMessage(queryClient, message);
  });
  useSocketEvent('chat:deleted', ({ roomId: forRoom, messageId }) => {
    if (mine(forRoom)) markDeleted(queryClient, roomId, messageId);
  });
  useSocketEvent('room:viewer_joined', ({ roomId: forRoom, user }) => {
    if (!mine(forRoom)) return;
    addSystemLine(queryClient, roomId, user.id === currentUserId ? 'You entered the room' : `${user.username} entered the room`);
  });
  useSocketEvent('room:viewer_left', ({ roomId: forRoom, user }) => {
    if (mine(forRoom) && user.id !== currentUserId) addSystemLine(queryClient, roomId, `${user.username} left the room`);
  });
  useSocketEvent('chat:timeout', ({ roomId: forRoom, user, seconds }) => {
    if (!mine(forRoom)) return;
    const span = seconds ? ` for ${formatSeconds(seconds)}` : '';
    addSystemLine(
      queryClient,
      roomId,
      user.id === currentUserId ? `You were timed out${span}` : `${user.username} was timed out${span}`,
    );
  });
  useSocketEvent('chat:ban', ({ roomId: forRoom, user }) => {
    if (!mine(forRoom)) return;
    addSystemLine(
      queryClient,
      roomId,
      user.id === currentUserId ? 'You were banned from this room' : `${user.username} was banned`,
    );
  });

  return mergeChat(channel?.messages ?? [], log);
}

