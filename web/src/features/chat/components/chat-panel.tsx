import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import { CHAT_MAX_LENGTH } from '@/config/constants';
import { paths } from '@/config/paths';
import { useBanUser } from '@/features/chat/api/ban-user';
import { useDeleteMessage } from '@/features/chat/api/delete-message';
import { useChatSettings } from '@/features/chat/api/get-chat-settings';
import { useSendMessage } from '@/features/chat/api/send-message';
import { useSetModerator } from '@/features/chat/api/set-moderator';
import { useTimeoutUser } from '@/features/chat/api/timeout-user';
import { EmojiPicker } from '@/features/chat/components/emoji-picker';
import { MessageText } from '@/features/chat/components/message-text';
import { TipMessage } from '@/features/chat/components/tip-message';
import { replaceShortcodes } from '@/features/chat/utils/emoji';
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
  /** The creator only: appoint or remove a moderator. */
  onSetModerator: ((user: ChatUser, appoint: boolean) => void) | null;
  /** Whether the author may be moderated by the caller (not the creator, not a fellow moderator). */
  canTarget: (user: ChatUser) => boolean;
  isModerator: (userId: string) => boolean;
  busy: boolean;
};

type LineContext = {
  moderation: Moderation | null;
  currentUser: User | null;
  linkDomains: readonly string[];
};

function Line({ line, cx }: { line: ChatLine; cx: LineContext }) {
  if (line.kind === 'system') {
    return (
      <li className="px-3 py-1 text-xs text-zinc-500 italic dark:text-zinc-400" data-kind="system">
        {line.text}
      </li>
    );
  }
  return <MessageItem line={line} cx={cx} />;
}

const badgeClass = {
  host: 'bg-red-600 text-white',
  moderator: 'bg-emerald-600 text-white',
} as const;

/** The author: display name (username on hover and for screen readers), badge, link to their page. */
function Author({ user, mine, isModerator }: { user: ChatUser; mine: boolean; isModerator: boolean }) {
  const badge = user.badge ?? (isModerator ? 'moderator' : null);
  const name = user.displayName || user.username;
  return (
    <>
      {badge && (
        <span
          data-testid={`badge-${badge}`}
          className={cn('mr-1 rounded px-1 py-px align-[1px] text-[10px] font-bold uppercase', badgeClass[badge])}
        >
          {badge === 'host' ? 'Host' : 'Mod'}
        </span>
      )}
      <Link
        to={paths.creator.getHref(user.username)}
        title={`@${user.username}`}
        className={cn('font-semibold hover:underline', mine ? 'text-brand-700 dark:text-brand-100' : '')}
      >
        {name}
        {name !== user.username && <span className="sr-only"> (@{user.username})</span>}
      </Link>
    </>
  );
}

function MessageItem({ line, cx }: { line: MessageLine; cx: LineContext }) {
  const { message } = line;
  const { moderation, currentUser } = cx;
  const currentUserId = currentUser?.id;
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
        A message was removed by a moderator
      </li>
    );
  }
  const author = message.user;
  const canModerate = moderation !== null && author.id !== currentUserId && moderation.canTarget(author);
  const name = author.displayName || author.username;
  const isMod = moderation?.isModerator(author.id) ?? false;
  return (
    <li className="group relative px-3 py-1 text-sm break-words hover:bg-zinc-100 focus-within:bg-zinc-100 dark:hover:bg-zinc-800/60 dark:focus-within:bg-zinc-800/60" data-kind="message">
      <span className="mr-1 text-xs text-zinc-500 dark:text-zinc-400">
        <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
      </span>
      <Author user={author} mine={author.id === currentUserId} isModerator={author.badge === undefined && isMod} />
      <span className="text-zinc-400" aria-hidden="true">
        :{' '}
      </span>
      <span className="sr-only">says </span>
      <span>
        <MessageText text={message.text} linkDomains={cx.linkDomains} me={currentUser?.username} />
      </span>
      {canModerate && (
        <span className="absolute top-0.5 right-2 flex gap-1 rounded-md bg-white p-0.5 opacity-0 shadow group-hover:opacity-100 focus-within:opacity-100 pointer-coarse:static pointer-coarse:mt-1 pointer-coarse:bg-transparent pointer-coarse:opacity-100 pointer-coarse:shadow-none dark:bg-zinc-900">
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs" disabled={moderation.busy} onClick={() => moderation.onDelete(message.id)} aria-label={`Delete message from ${name}`}>
            Delete
          </Button>
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs" disabled={moderation.busy} onClick={() => moderation.onTimeout(author)} aria-label={`Time out ${name} for 5 minutes`}>
            Timeout
          </Button>
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs text-red-600 dark:text-red-400" disabled={moderation.busy} onClick={() => moderation.onBan(author)} aria-label={`Ban ${name}`}>
            Ban
          </Button>
          {moderation.onSetModerator && (
            <Button
              size="sm"
              variant="ghost"
              className="h-6 px-2 text-xs"
              disabled={moderation.busy}
              onClick={() => moderation.onSetModerator?.(author, !isMod)}
              aria-label={isMod ? `Remove ${name} as moderator` : `Make ${name} a moderator`}
            >
              {isMod ? 'Unmod' : 'Mod'}
            </Button>
          )}
        </span>
      )}
    </li>
  );
}

/**
 * The room's chat: history and live lines with display names, badges,
 * mentions and safe links; a send box with emoji (a picker, or `:shortcode:`
 * as you type); "N new messages" while scrolled up; moderation for the
 * creator and the moderators they appointed.
 */
export function ChatPanel({ roomId, enabled, notice, currentUser, className }: ChatPanelProps) {
  const channel = useRoomChannel(roomId, enabled && currentUser !== null);
  const lines = useChatLog(roomId, channel.data, currentUser?.id);
  const send = useSendMessage(roomId);
  const del = useDeleteMessage(roomId);
  const timeout = useTimeoutUser(roomId);
  const ban = useBanUser(roomId);
  const setModerator = useSetModerator(roomId);
  const settings = useChatSettings();
  const [text, setText] = useState('');
  const listRef = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  /** Messages that arrived while the reader was scrolled up. */
  const [unseen, setUnseen] = useState(0);
  const seenLength = useRef(lines.length);

  useEffect(() => {
    const list = listRef.current;
    const added = lines.length - seenLength.current;
    seenLength.current = lines.length;
    if (list && stickToBottom.current) list.scrollTop = list.scrollHeight;
    else if (added > 0) setUnseen((n) => n + added);
  }, [lines.length]);

  const toLatest = () => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
    stickToBottom.current = true;
    setUnseen(0);
    list?.focus();
  };

  const isCreator = channel.data?.role === 'creator';
  const moderatorIds = channel.data?.moderatorIds ?? [];
  const isModerator = (userId: string) => moderatorIds.includes(userId);
  const amModerator = currentUser !== null && isModerator(currentUser.id);
  const moderationError = [del, timeout, ban, setModerator].find((m) => m.isError)?.error;
  const moderation: Moderation | null =
    isCreator || amModerator
      ? {
          busy: del.isPending || timeout.isPending || ban.isPending || setModerator.isPending,
          onDelete: (messageId) => del.mutate(messageId),
          onTimeout: (user) => timeout.mutate({ user, seconds: TIMEOUT_SECONDS }),
          onBan: (user) => {
            if (window.confirm(`Ban ${user.displayName || user.username} from this room's chat?`)) ban.mutate(user);
          },
          onSetModerator: isCreator ? (user, appoint) => setModerator.mutate({ user, appoint }) : null,
          // Moderators do not moderate the creator or each other (the server refuses it too).
          canTarget: (user) => isCreator || (user.badge !== 'host' && !isModerator(user.id)),
          isModerator,
        }
      : null;
  const cx: LineContext = { moderation, currentUser, linkDomains: settings.data?.linkDomains ?? [] };

  const trimmed = text.trim();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!trimmed || trimmed.length > CHAT_MAX_LENGTH) return;
    send.mutate(trimmed, { onSuccess: () => setText('') });
    // Your own message brings you to the latest.
    stickToBottom.current = true;
    setUnseen(0);
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
            if (stickToBottom.current) setUnseen(0);
          }}
          className="flex-1 overflow-y-auto py-2"
        >
          <ol className="space-y-0.5">
          {lines.length === 0 && (
            <li className="px-3 py-1 text-sm text-zinc-500 dark:text-zinc-400">No messages yet. Say hello!</li>
          )}
          {lines.map((line) => (
            <Line key={line.id} line={line} cx={cx} />
          ))}
          {channel.data?.ended && (
            <li className="px-3 py-1 text-xs font-semibold text-zinc-500 dark:text-zinc-400">The stream has ended.</li>
          )}
          {channel.data?.banned && (
            <li className="px-3 py-1 text-xs font-semibold text-red-600 dark:text-red-400">
              You were banned from this room.
            </li>
          )}
          </ol>
        </div>
      )}
      {unseen > 0 && !status && (
        <div className="relative">
          <Button
            size="sm"
            className="absolute bottom-2 left-1/2 -translate-x-1/2 shadow-lg"
            onClick={toLatest}
            data-testid="new-messages"
          >
            {unseen === 1 ? '1 new message' : `${unseen} new messages`} ↓
          </Button>
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
              setText(replaceShortcodes(e.target.value));
              if (send.isError) send.reset();
            }}
            maxLength={CHAT_MAX_LENGTH}
            placeholder={closed ? 'Chat is closed' : 'Send a message'}
            disabled={closed}
            autoComplete="off"
            className="h-9 min-w-0 flex-1 rounded-lg border border-zinc-300 bg-white px-3 text-sm disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-950"
          />
          <EmojiPicker disabled={closed} onPick={(emoji) => setText((t) => `${t}${emoji}`.slice(0, CHAT_MAX_LENGTH))} />
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
