import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';

import { RegisterForm } from '@/features/auth/components/auth-form';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

describe('RegisterForm', () => {
  it("shows the server's words above the form when sign-ups are throttled (429)", async () => {
    server.use(
      http.post('/api/auth/register', () =>
        HttpResponse.json(
          {
            error: {
              code: 'rate_limited',
              message: 'Too many new accounts from your network; try again in 600 s.',
              retryAfterSeconds: 600,
            },
          },
          { status: 429, headers: { 'Retry-After': '600' } },
        ),
      ),
    );
    const onSuccess = vi.fn();
    renderWithApp(<RegisterForm onSuccess={onSuccess} />, { user: null });

    await userEvent.type(screen.getByLabelText('Username'), 'ann_1');
    await userEvent.type(screen.getByLabelText('E-mail'), 'ann@example.com');
    await userEvent.type(screen.getByLabelText(/^Password/), 'correct horse');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Too many new accounts from your network; try again in 600 s.',
    );
    expect(onSuccess).not.toHaveBeenCalled();
  });
});
