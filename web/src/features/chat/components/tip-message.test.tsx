import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { ChatPanel } from '@/features/chat/components/chat-panel';
import { setAccessToken } from '@/lib/api-client';
import { aMessage, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';

const me = aUser({ id: 'u-me', username: 'me' });

describe('tips in the chat', () => {
  it('highlights tips from the history and live ones, with the amount and the message', async () => {
    setAccessToken('token');
    fakeSocket().onEmit('room:join', () => ({
      ok: true,
      role: 'creator',
      viewerCount: 2,
      messages: [
        aMessage({ id: 'm1', kind: 'chat', text: 'hi' }),
        aMessage({ id: 'm2', kind: 'tip', tip: { amount: 25 }, text: 'Keep it up!' }),
      ],
    }));
    renderWithApp(<ChatPanel roomId="r-1" enabled currentUser={me} />, { user: me });
    const log = await screen.findByRole('log', { name: 'Chat messages' });

    const tip = log.querySelector('[data-kind="tip"]') as HTMLElement;
    expect(tip).toHaveTextContent('otto tipped 25 coins: and says Keep it up!');
    // The creator may delete a tip's words, nothing else.
    expect(within(tip).getAllByRole('button').map((b) => b.textContent)).toEqual(['Delete']);
    expect(log.querySelectorAll('[data-kind="message"]')).toHaveLength(1);

    act(() =>
      fakeSocket().serverEmit(
        'chat:message',
        aMessage({ id: 'm3', user: { id: 'u-me', username: 'me' }, kind: 'tip', tip: { amount: 1 }, text: '' }),
      ),
    );
    await waitFor(() => expect(log.querySelectorAll('[data-kind="tip"]')).toHaveLength(2));
    expect(log.querySelectorAll('[data-kind="tip"]')[1]).toHaveTextContent(/me tipped 1 coin$/);
  });

  it("lets the creator delete a tip's message, and shows it removed for everyone", async () => {
    setAccessToken('token');
    fakeSocket().onEmit('room:join', () => ({
      ok: true,
      role: 'creator',
      viewerCount: 2,
      messages: [aMessage({ id: 'm2', kind: 'tip', tip: { amount: 25 }, text: 'rude words' })],
    }));
    fakeSocket().onEmit('chat:delete', () => ({ ok: true }));
    renderWithApp(<ChatPanel roomId="r-1" enabled currentUser={me} />, { user: me });
    await userEvent.click(await screen.findByRole('button', { name: "Delete the message of otto's tip" }));
    expect(fakeSocket().emitsOf('chat:delete')).toEqual([{ roomId: 'r-1', messageId: 'm2' }]);

    act(() => fakeSocket().serverEmit('chat:deleted', { roomId: 'r-1', messageId: 'm2' }));
    // The tip stays; its words are gone.
    expect(await screen.findByText('(message removed by the creator)')).toBeInTheDocument();
    expect(screen.queryByText('rude words')).not.toBeInTheDocument();
    expect(screen.getByTestId('tip-amount')).toHaveTextContent('25 coins');
    expect(screen.queryByRole('button', { name: /Delete/ })).not.toBeInTheDocument();
  });

  it('offers viewers no moderation on tips', async () => {
    setAccessToken('token');
    fakeSocket().onEmit('room:join', () => ({
      ok: true,
      role: 'viewer',
      viewerCount: 2,
      messages: [aMessage({ id: 'm2', kind: 'tip', tip: { amount: 25 }, text: 'hello' })],
    }));
    renderWithApp(<ChatPanel roomId="r-1" enabled currentUser={me} />, { user: me });
    const log = await screen.findByRole('log', { name: 'Chat messages' });
    expect(log.querySelector('[data-kind="tip"]')).toHaveTextContent('otto tipped 25 coins');
    expect(within(log).queryByRole('button')).not.toBeInTheDocument();
  });
});
