import { useEffect, useRef, useState, type FormEvent } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import { CHAT_MAX_LENGTH } from '@/config/constants';
import { useBanUser } from '@/features/chat/api/ban-user';
import { useDeleteMessage } from '@/features/chat/api/delete-message';
import { useSendMessage } from '@/features/chat/api/send-message';
import { useTimeoutUser } from '@/features/chat/api/timeout-user';
import { TipMessage } from '@/features/chat/components/tip-message';
import { useChatLog, type ChatLine, type MessageLine } from '@/features/chat/hooks/use-chat-log';
import { errorMessage } from '@/lib/api-client';
import { formatTime, formatViewers } from '@/lib/format';
import { useRoomChannel } from '@/lib/room-channel';
import type { ChatUser, User } from '@/types/api';
import { cn } from '@/utils/cn';

type ChatPanelProps = {
  roomId: string;
  /** The user may be in the room (access and a live stream). */
  enabled: boolean;
  /** Why the chat is closed, when it is not `enabled`. */
  notice?: string;
  currentUser: User | null;
  className?: string;
};

const TIMEOUT_SECONDS = 300;

type Moderation = {
  onDelete: (messageId: string) => void;
  onTimeout: (user: ChatUser) => void;
  onBan: (user: ChatUser) => void;
  busy: boolean;
};

function Line({ line, moderation, currentUserId }: { line: ChatLine; moderation: Moderation | null; currentUserId?: string }) {
  if (line.kind === 'system') {
    return (
      <li className="px-3 py-1 text-xs text-zinc-500 italic dark:text-zinc-400" data-kind="system">
        {line.text}
      </li>
    );
  }
  return <MessageItem line={line} moderation={moderation} currentUserId={currentUserId} />;
}

function MessageItem({ line, moderation, currentUserId }: { line: MessageLine; moderation: Moderation | null; currentUserId?: string }) {
  const { message } = line;
  // Tips stand out for everyone (issue 16). The creator may delete a tip's
  // words; timing out or banning for a gift is left to the chat lines.
  if (message.kind === 'tip') {
    const mine = message.user.id === currentUserId;
    return (
      <TipMessage
        message={message}
        mine={mine}
        onDelete={moderation && !mine && !line.deleted ? () => moderation.onDelete(message.id) : undefined}
        busy={moderation?.busy}
        deleted={line.deleted}
      />
    );
  }
  if (line.deleted) {
    return (
      <li className="px-3 py-1 text-xs text-zinc-500 italic dark:text-zinc-400" data-kind="deleted">
        A message was removed by the creator
      </li>
    );
  }
  const canModerate = moderation !== null && message.user.id !== currentUserId;
  return (
    <li className="group relative px-3 py-1 text-sm break-words hover:bg-zinc-100 focus-within:bg-zinc-100 dark:hover:bg-zinc-800/60 dark:focus-within:bg-zinc-800/60" data-kind="message">
      <span className="mr-1 text-xs text-zinc-500 dark:text-zinc-400">
        <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
      </span>
      <span className={cn('font-semibold', message.user.id === currentUserId ? 'text-brand-700 dark:text-brand-100' : '')}>
        {message.user.username}
      </span>
      <span className="text-zinc-400" aria-hidden="true">
        :{' '}
      </span>
      <span className="sr-only">says </span>
      <span>{message.text}</span>
      {canModerate && (
        <span className="absolute top-0.5 right-2 flex gap-1 rounded-md bg-white p-0.5 opacity-0 shadow group-hover:opacity-100 focus-within:opacity-100 pointer-coarse:static pointer-coarse:mt-1 pointer-coarse:bg-transparent pointer-coarse:opacity-100 pointer-coarse:shadow-none dark:bg-zinc-900">
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs" disabled={moderation.busy} onClick={() => moderation.onDelete(message.id)} aria-label={`Delete message from ${message.user.username}`}>
            Delete
          </Button>
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs" disabled={moderation.busy} onClick={() => moderation.onTimeout(message.user)} aria-label={`Time out ${message.user.username} for 5 minutes`}>
            Timeout
          </Button>
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs text-red-600 dark:text-red-400" disabled={moderation.busy} onClick={() => moderation.onBan(message.user)} aria-label={`Ban ${message.user.username}`}>
            Ban
          </Button>
        </span>
      )}
    </li>
  );
}

/** The room's chat: history and live lines, a send box, and moderation for the creator. */
export function ChatPanel({ roomId, enabled, notice, currentUser, className }: ChatPanelProps) {
  const channel = useRoomChannel(roomId, enabled && currentUser !== null);
  const lines = useChatLog(roomId, channel.data, currentUser?.id);
  const send = useSendMessage(roomId);
  const del = useDeleteMessage(roomId);
  const timeout = useTimeoutUser(roomId);
  const ban = useBanUser(roomId);
  const [text, setText] = useState('');
  const listRef = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  useEffect(() => {
    const list = listRef.current;
    if (list && stickToBottom.current) list.scrollTop = list.scrollHeight;
  }, [lines.length]);

  const isCreator = channel.data?.role === 'creator';
  const moderationError = [del, timeout, ban].find((m) => m.isError)?.error;
  const moderation: Moderation | null = isCreator
    ? {
        busy: del.isPending || timeout.isPending || ban.isPending,
        onDelete: (messageId) => del.mutate(messageId),
        onTimeout: (user) => timeout.mutate({ user, seconds: TIMEOUT_SECONDS }),
        onBan: (user) => {
          if (window.confirm(`Ban ${user.username} from this room's chat?`)) ban.mutate(user);
        },
      }
    : null;

  const trimmed = text.trim();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!trimmed || trimmed.length > CHAT_MAX_LENGTH) return;
    send.mutate(trimmed, { onSuccess: () => setText('') });
  };

  let status: string | null = null;
  if (!currentUser) status = 'Log in to read and write in the chat.';
  else if (!enabled) status = notice ?? 'The chat opens when you are in the room.';
  else if (channel.isError) status = `Could not join the chat: ${errorMessage(channel.error)}`;
  const closed = !channel.isSuccess || channel.data.ended || channel.data.banned;

  return (
    <section
      aria-labelledby={`chat-${roomId}`}
      className={cn(
        'flex h-[28rem] flex-col overflow-hidden rounded-xl border border-zinc-200 bg-white lg:h-full dark:border-zinc-800 dark:bg-zinc-900',
        className,
      )}
    >
      <header className="flex items-center justify-between border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <h2 id={`chat-${roomId}`} className="text-sm font-semibold">
          Chat
        </h2>
        {channel.data && !channel.data.ended && (
          <span className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="chat-viewer-count">
            {formatViewers(channel.data.viewerCount)}
          </span>
        )}
      </header>
      {status ? (
        <p className="flex flex-1 items-center justify-center p-4 text-center text-sm text-zinc-500 dark:text-zinc-400">{status}</p>
      ) : channel.isPending ? (
        <div className="flex flex-1 items-center justify-center">
          <Spinner label="Joining the chat" />
        </div>
      ) : (
        // The log wraps the list: a `log` role on the <ol> itself would leave its items outside any list.
        <div
          ref={listRef}
          role="log"
          aria-live="polite"
          aria-label="Chat messages"
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
          }}
          className="flex-1 overflow-y-auto py-2"
        >
          <ol className="space-y-0.5">
          {lines.length === 0 && (
            <li className="px-3 py-1 text-sm text-zinc-500 dark:text-zinc-400">No messages yet. Say hello!</li>
          )}
          {lines.map((line) => (
            <Line key={line.id} line={line} moderation={moderation} currentUserId={currentUser?.id} />
          ))}
          {channel.data?.ended && (
            <li className="px-3 py-1 text-xs font-semibold text-zinc-500 dark:text-zinc-400">The stream has ended.</li>
          )}
          {channel.data?.banned && (
            <li className="px-3 py-1 text-xs font-semibold text-red-600 dark:text-red-400">
              The creator banned you from this room.
            </li>
          )}
          </ol>
        </div>
      )}
      {moderationError !== undefined && (
        <div className="px-3 pb-2">
          <Alert tone="error">{errorMessage(moderationError)}</Alert>
        </div>
      )}
      <form onSubmit={onSubmit} className="border-t border-zinc-200 p-2 dark:border-zinc-800">
        <div className="flex gap-2">
          <label htmlFor={`chat-input-${roomId}`} className="sr-only">
            Message
          </label>
          <input
            id={`chat-input-${roomId}`}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (send.isError) send.reset();
            }}
            maxLength={CHAT_MAX_LENGTH}
            placeholder={closed ? 'Chat is closed' : 'Send a message'}
            disabled={closed}
            autoComplete="off"
            className="h-9 min-w-0 flex-1 rounded-lg border border-zinc-300 bg-white px-3 text-sm disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-950"
          />
          <Button
            type="submit"
            size="sm"
            className="h-9"
            isLoading={send.isPending}
            disabled={closed || !trimmed}
          >
            Send
          </Button>
        </div>
        <div className="mt-1 flex justify-between gap-2 text-xs">
          <span role="alert" className="text-red-600 dark:text-red-400">
            {send.isError ? errorMessage(send.error) : ''}
          </span>
          {text.length > CHAT_MAX_LENGTH - 100 && (
            <span className="text-zinc-500 dark:text-zinc-400">
              {text.length}/{CHAT_MAX_LENGTH}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
