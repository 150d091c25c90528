import { act, screen, waitFor, within } from '@testing-library/react';
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
    // A tip is coins, not words to moderate: no Delete/Timeout/Ban on it.
    expect(within(tip).queryByRole('button')).not.toBeInTheDocument();
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
});
