import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { ChatPanel } from '@/features/chat/components/chat-panel';
import { setAccessToken } from '@/lib/api-client';
import { aMessage, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const me = aUser({ id: 'u-me', username: 'me' });

function joinAnswer(role: 'viewer' | 'creator' = 'viewer') {
  setAccessToken('token');
  fakeSocket().onEmit('room:join', () => ({ ok: true, role, viewerCount: 2, messages: [] }));
}

function RealtimeChat() {
  return <ChatPanel roomId="r-1" enabled currentUser={me} />;
}

function renderChat({ role = 'viewer' }: { role?: 'viewer' | 'creator' } = {}) {
  setAccessToken('token');
  fakeSocket().onEmit('room:join', () => ({
    ok: true,
    role,
    viewerCount: 2,
    messages: [
      aMessage({ id: 'm2', text: 'second', sentAt: '2025-01-02T18:07:00Z' }),
      aMessage({ id: 'm1', text: 'first', sentAt: '2025-01-02T18:06:00Z' }),
    ],
  }));
  return renderWithApp(<ChatPanel roomId="r-1" enabled currentUser={me} />, { user: me });
}

const log = () => screen.getByRole('log', { name: 'Chat messages' });
const lines = () => within(log()).getAllByRole('listitem').map((li) => li.textContent ?? '');

describe('ChatPanel', () => {
  it('shows the history from the join, oldest first, then live messages', async () => {
    renderChat();
    await screen.findByRole('log');
    expect(fakeSocket().emitsOf('room:join')).toEqual([{ roomId: 'r-1' }]);
    expect(lines()).toEqual([expect.stringContaining('otto: says first'), expect.stringContaining('otto: says second')]);

    act(() => fakeSocket().serverEmit('chat:message', aMessage({ id: 'm3', text: 'live one' })));
    // A message for another room is not ours.
    act(() => fakeSocket().serverEmit('chat:message', aMessage({ id: 'm4', roomId: 'r-2', text: 'elsewhere' })));
    await waitFor(() => expect(lines()).toHaveLength(3));
    expect(lines()[2]).toContain('live one');
    expect(screen.queryByText('elsewhere')).not.toBeInTheDocument();
  });

  it('renders viewers entering and leaving as system lines', async () => {
    renderChat();
    await screen.findByRole('log');
    act(() =>
      fakeSocket().serverEmit('room:viewer_joined', { roomId: 'r-1', user: { id: 'u5', username: 'nia' }, viewerCount: 3 }),
    );
    act(() =>
      fakeSocket().serverEmit('room:viewer_left', { roomId: 'r-1', user: { id: 'u5', username: 'nia' }, viewerCount: 2 }),
    );
    expect(await screen.findByText('nia entered the room')).toHaveAttribute('data-kind', 'system');
    expect(await screen.findByText('nia left the room')).toHaveAttribute('data-kind', 'system');
  });

  it('sends a message and shows it once, even when the broadcast comes too', async () => {
    renderChat();
    await screen.findByRole('log');
    const sent = aMessage({ id: 'm9', user: { id: 'u-me', username: 'me' }, text: 'hi all' });
    fakeSocket().onEmit('chat:send', () => ({ ok: true, message: sent }));

    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), '  hi all  ');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));

    await waitFor(() => expect(lines().some((l) => l.includes('hi all'))).toBe(true));
    expect(fakeSocket().emitsOf('chat:send')).toEqual([{ roomId: 'r-1', text: 'hi all' }]);
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveValue('');
    act(() => fakeSocket().serverEmit('chat:message', sent));
    await new Promise((r) => setTimeout(r, 20));
    expect(lines().filter((l) => l.includes('hi all'))).toHaveLength(1);
  });

  it('shows a rate_limited refusal and keeps the text', async () => {
    renderChat();
    await screen.findByRole('log');
    fakeSocket().onEmit('chat:send', () => ({
      ok: false,
      error: { code: 'rate_limited', message: 'Slow down: at most 5 messages in 10 seconds.' },
    }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'spam');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(await screen.findByText('Slow down: at most 5 messages in 10 seconds.')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveValue('spam');
  });

  it('lets the creator delete a message, and renders deletions pushed by the server', async () => {
    renderChat({ role: 'creator' });
    await screen.findByRole('log');
    fakeSocket().onEmit('chat:delete', () => ({ ok: true }));

    await userEvent.click(screen.getAllByRole('button', { name: 'Delete message from otto' })[0]);
    expect(fakeSocket().emitsOf('chat:delete')).toEqual([{ roomId: 'r-1', messageId: 'm1' }]);
    await waitFor(() => expect(screen.queryByText('first')).not.toBeInTheDocument());

    act(() => fakeSocket().serverEmit('chat:deleted', { roomId: 'r-1', messageId: 'm2' }));
    await waitFor(() => expect(screen.queryByText('second')).not.toBeInTheDocument());
    expect(screen.getAllByText('A message was removed by a moderator')).toHaveLength(2);
  });

  it('shows a moderation refusal by its message', async () => {
    renderChat({ role: 'creator' });
    await screen.findByRole('log');
    fakeSocket().onEmit('chat:timeout', () => ({ ok: false, error: { code: 'forbidden', message: 'You cannot time out the creator.' } }));
    await userEvent.click(screen.getAllByRole('button', { name: 'Time out otto for 5 minutes' })[0]);
    expect(fakeSocket().emitsOf('chat:timeout')).toEqual([{ roomId: 'r-1', userId: 'u-other', seconds: 300 }]);
    expect(await screen.findByText('You cannot time out the creator.')).toBeInTheDocument();
  });

  it('renders timeouts and bans the server announces, and closes the chat for the banned user', async () => {
    joinAnswer();
    renderWithApp(<RealtimeChat />, { user: me, realtime: true });
    await screen.findByRole('log');
    act(() =>
      fakeSocket().serverEmit('chat:timeout', {
        roomId: 'r-1',
        user: { id: 'u-other', username: 'otto' },
        seconds: 300,
        until: '2025-01-02T18:11:00Z',
      }),
    );
    expect(await screen.findByText('otto was timed out for 5 min')).toBeInTheDocument();

    act(() => fakeSocket().serverEmit('chat:ban', { roomId: 'r-1', user: { id: 'u-me', username: 'me' } }));
    expect(await screen.findByText('You were banned from this room')).toBeInTheDocument();
    expect(await screen.findByText('You were banned from this room.')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Message' })).toBeDisabled();
  });

  it('offers no moderation to viewers', async () => {
    renderChat();
    await screen.findByRole('log');
    expect(screen.queryByRole('button', { name: /Delete message/ })).not.toBeInTheDocument();
  });

  it('asks anonymous visitors to log in', () => {
    renderWithApp(<ChatPanel roomId="r-1" enabled currentUser={null} />, { user: null });
    expect(screen.getByText('Log in to read and write in the chat.')).toBeInTheDocument();
    expect(fakeSocket().emitsOf('room:join')).toEqual([]);
  });

  describe('a chat that reads like a community (issue 19)', () => {
    function renderWith(messages: ReturnType<typeof aMessage>[], { role = 'viewer', moderatorIds = [] as string[] } = {}) {
      setAccessToken('token');
      fakeSocket().onEmit('room:join', () => ({
        ok: true,
        role,
        viewerCount: 2,
        messages,
        room: { moderatorIds },
      }));
      return renderWithApp(<ChatPanel roomId="r-1" enabled currentUser={me} />, { user: me });
    }

    it('shows display names with the username on hover, badges, highlighted mentions and only safe links', async () => {
      renderWith([
        aMessage({
          id: 'h',
          user: { id: 'u-creator', username: 'cleo', displayName: 'Cleo Creator', badge: 'host' },
          text: 'hi @otto_fan, docs at https://github.com/x and http://evil.example/y',
          sentAt: '2025-01-02T18:01:00Z',
        }),
        aMessage({
          id: 'm',
          user: { id: 'u-mod', username: 'mo', displayName: 'Mo', badge: 'moderator' },
          text: 'keep it kind',
          sentAt: '2025-01-02T18:02:00Z',
        }),
      ]);
      const name = await screen.findByRole('link', { name: /^Cleo Creator/ });
      expect(name).toHaveTextContent('Cleo Creator (@cleo)');
      expect(name).toHaveAttribute('title', '@cleo');
      expect(name).toHaveAttribute('href', '/u/cleo');
      expect(screen.getByTestId('badge-host')).toHaveTextContent('Host');
      expect(screen.getByTestId('badge-moderator')).toHaveTextContent('Mod');
      expect(screen.getByTestId('mention')).toHaveTextContent('@otto_fan');
      // The safe-list comes from GET /api/chat/settings (github.com in tests).
      expect(await screen.findByRole('link', { name: 'https://github.com/x' })).toHaveAttribute('rel', 'noopener noreferrer nofollow ugc');
      expect(screen.queryByRole('link', { name: /evil/ })).not.toBeInTheDocument();
      expect(screen.getByText(/http:\/\/evil\.example\/y/)).toBeInTheDocument();
    });

    it('gives moderators the moderation buttons, but not over the creator', async () => {
      renderWith(
        [
          aMessage({ id: 'a', user: { id: 'u-creator', username: 'cleo', badge: 'host' }, text: 'hello' }),
          aMessage({ id: 'b', user: { id: 'u-troll', username: 'troll' }, text: 'spam', sentAt: '2025-01-02T18:09:00Z' }),
        ],
        { moderatorIds: ['u-me'] },
      );
      fakeSocket().onEmit('chat:delete', () => ({ ok: true }));
      await screen.findByRole('log');
      expect(screen.queryByRole('button', { name: 'Delete message from cleo' })).not.toBeInTheDocument();
      await userEvent.click(screen.getByRole('button', { name: 'Delete message from troll' }));
      expect(fakeSocket().emitsOf('chat:delete')).toEqual([{ roomId: 'r-1', messageId: 'b' }]);
      // Only the creator appoints moderators.
      expect(screen.queryByRole('button', { name: /a moderator/ })).not.toBeInTheDocument();
    });

    it('lets the creator appoint a moderator from a message, and shows the badge', async () => {
      let appointed = '';
      server.use(
        http.put('/api/rooms/r-1/moderators/:userId', ({ params }) => {
          appointed = String(params.userId);
          return HttpResponse.json({ items: [{ id: 'u-other', username: 'otto', displayName: 'Otto' }] });
        }),
      );
      renderWith([aMessage({ id: 'o', text: 'hi' })], { role: 'creator' });
      await screen.findByRole('log');
      await userEvent.click(screen.getByRole('button', { name: 'Make otto a moderator' }));
      await waitFor(() => expect(appointed).toBe('u-other'));
      expect(await screen.findByTestId('badge-moderator')).toBeInTheDocument();
      expect(screen.getByRole('button', { name: 'Remove otto as moderator' })).toBeInTheDocument();
    });

    it('turns :shortcodes: into emoji as you type, and the picker works from the keyboard', async () => {
      renderWith([]);
      await screen.findByRole('log');
      const input = screen.getByRole('textbox', { name: 'Message' });
      await userEvent.type(input, 'nice :fire:');
      expect(input).toHaveValue('nice 🔥');
      await userEvent.click(screen.getByRole('button', { name: 'Insert emoji' }));
      await waitFor(() => expect(screen.getByRole('button', { name: 'smiling face' })).toHaveFocus());
      await userEvent.keyboard('{ArrowRight}{Enter}');
      expect(input).toHaveValue('nice 🔥😂');
      expect(screen.getByRole('button', { name: 'Insert emoji' })).toHaveFocus();
    });

    it('counts new messages while scrolled up and jumps to them', async () => {
      renderWith([aMessage({ id: 'first', text: 'first' })]);
      const list = await screen.findByRole('log');
      // Scrolled up: far from the bottom.
      Object.defineProperty(list, 'scrollHeight', { configurable: true, value: 1000 });
      Object.defineProperty(list, 'clientHeight', { configurable: true, value: 200 });
      Object.defineProperty(list, 'scrollTop', { configurable: true, writable: true, value: 100 });
      act(() => {
        list.dispatchEvent(new Event('scroll'));
      });
      act(() => fakeSocket().serverEmit('chat:message', aMessage({ id: 'n1', text: 'new one' })));
      act(() => fakeSocket().serverEmit('chat:message', aMessage({ id: 'n2', text: 'new two' })));
      const jump = await screen.findByTestId('new-messages');
      expect(jump).toHaveTextContent('2 new messages');
      await userEvent.click(jump);
      expect(screen.queryByTestId('new-messages')).not.toBeInTheDocument();
      expect(list.scrollTop).toBe(1000);
    });
  });
});
