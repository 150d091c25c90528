import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import {
  ApiError,
  body,
  client,
  getAccessToken,
  getAccountRefusal,
  hasSessionHint,
  refreshAccessToken,
  setAccessToken,
} from '@/lib/api-client';
import { server } from '@/testing/server';

const expired = () =>
  HttpResponse.json({ error: { code: 'token_expired', message: 'The access token has expired.' } }, { status: 401 });

describe('api client', () => {
  it('sends the access token and parses JSON', async () => {
    setAccessToken('token-1');
    server.use(
      http.get('/api/users/balance', ({ request }) =>
        request.headers.get('Authorization') === 'Bearer token-1'
          ? HttpResponse.json({ coins: 42 })
          : HttpResponse.json({ error: { code: 'unauthorized', message: 'no' } }, { status: 401 }),
      ),
    );
    await expect(body(client.GET('/api/users/balance'))).resolves.toEqual({ coins: 42 });
  });

  it('refreshes an expired token once and retries the call with the new one', async () => {
    setAccessToken('old');
    let refreshes = 0;
    const seen: Array<string | null> = [];
    server.use(
      http.post('/api/auth/refresh', () => {
        refreshes += 1;
        return HttpResponse.json({ accessToken: 'new' });
      }),
      http.get('/api/users/me', ({ request }) => {
        const auth = request.headers.get('Authorization');
        seen.push(auth);
        return auth === 'Bearer new' ? HttpResponse.json({ id: 'u1' }) : expired();
      }),
    );

    await expect(body(client.GET('/api/users/me'))).resolves.toEqual({ id: 'u1' });
    expect(refreshes).toBe(1);
    expect(seen).toEqual(['Bearer old', 'Bearer new']);
    expect(getAccessToken()).toBe('new');
  });

  it('serializes concurrent refreshes into one request', async () => {
    setAccessToken('old');
    let refreshes = 0;
    server.use(
      http.post('/api/auth/refresh', async () => {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 20));
        return HttpResponse.json({ accessToken: 'new' });
      }),
      http.get('/api/rooms/:id', ({ request, params }) =>
        request.headers.get('Authorization') === 'Bearer new'
          ? HttpResponse.json({ id: params.id })
          : HttpResponse.json({ error: { code: 'unauthorized', message: 'The access token is not valid.' } }, { status: 401 }),
      ),
    );

    const results = await Promise.all(['a', 'b', 'c'].map((id) => body(client.GET('/api/rooms/{id}', { params: { path: { id } } }))));
    expect(results.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(refreshes).toBe(1);
  });

  it('gives up after a refused refresh: the 401 surfaces and the session is cleared', async () => {
    setAccessToken('old');
    let calls = 0;
    server.use(
      http.post('/api/auth/refresh', () =>
        HttpResponse.json({ error: { code: 'unauthorized', message: 'No refresh token: sign in again.' } }, { status: 401 }),
      ),
      http.get('/api/users/me', () => {
        calls += 1;
        return expired();
      }),
    );

    const error = await body(client.GET('/api/users/me')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('token_expired');
    expect(calls).toBe(1);
    expect(getAccessToken()).toBeNull();
  });

  it('does not refresh for refusals other than an expired or bad token', async () => {
    setAccessToken('t');
    let refreshes = 0;
    server.use(
      http.post('/api/auth/refresh', () => {
        refreshes += 1;
        return HttpResponse.json({ accessToken: 'x' });
      }),
      http.post('/api/auth/login', () =>
        HttpResponse.json({ error: { code: 'invalid_credentials', message: 'Wrong username, e-mail or password.' } }, { status: 401 }),
      ),
    );
    await expect(body(client.POST('/api/auth/login', { body: { login: 'a', password: 'b' } }))).rejects.toMatchObject({
      status: 401,
      code: 'invalid_credentials',
    });
    expect(refreshes).toBe(0);
  });

  it('does not try to refresh for a visitor who never signed in', async () => {
    let refreshes = 0;
    server.use(
      http.post('/api/auth/refresh', () => {
        refreshes += 1;
        return HttpResponse.json({ accessToken: 'x' });
      }),
      http.get('/api/users/balance', () =>
        HttpResponse.json({ error: { code: 'unauthorized', message: 'Sign in first.' } }, { status: 401 }),
      ),
    );
    await expect(body(client.GET('/api/users/balance'))).rejects.toMatchObject({ code: 'unauthorized' });
    expect(refreshes).toBe(0);
  });

  it('turns error bodies into ApiError with their details', async () => {
    setAccessToken('t');
    server.use(
      http.post('/api/transactions/stream-join', () =>
        HttpResponse.json(
          { error: { code: 'insufficient_funds', message: 'Not enough coins.', balance: 5, required: 20 } },
          { status: 402 },
        ),
      ),
    );
    const error = (await body(client.POST('/api/transactions/stream-join', { body: { creatorId: 'c', roomId: 'r', amount: 1 } })).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(402);
    expect(error.message).toBe('Not enough coins.');
    expect(error.number('balance')).toBe(5);
    expect(error.number('required')).toBe(20);
  });

  it('describes a non-JSON failure and a 422 field', async () => {
    server.use(
      http.get('/api/rooms', () => new HttpResponse('<html>bad gateway</html>', { status: 502 })),
      http.post('/api/rooms', () =>
        HttpResponse.json({ error: { code: 'validation_failed', message: 'Too long.', field: 'title' } }, { status: 422 }),
      ),
    );
    await expect(body(client.GET('/api/rooms'))).rejects.toMatchObject({ status: 502, code: 'http_error' });
    await expect(body(client.POST('/api/rooms', { body: { title: 'x', price: 0, e2ee: false } }))).rejects.toMatchObject({ status: 422, field: 'title' });
  });

  it('sends a Blob as it is, with the given content type, and query parameters without empty ones', async () => {
    setAccessToken('t');
    let received: { type: string | null; size: number } | null = null;
    let query = '';
    server.use(
      http.put('/api/rooms/r1/thumbnail', async ({ request }) => {
        received = { type: request.headers.get('Content-Type'), size: (await request.arrayBuffer()).byteLength };
        return new HttpResponse(null, { status: 204 });
      }),
      http.get('/api/rooms', ({ request }) => {
        query = new URL(request.url).search;
        return HttpResponse.json({ items: [], nextCursor: null });
      }),
    );
    await expect(
      body(
        client.PUT('/api/rooms/{id}/thumbnail', {
          params: { path: { id: 'r1' } },
          // The description types a binary body as a string; the client sends a Blob as it is.
          body: new Blob([new Uint8Array(10)], { type: 'image/jpeg' }) as unknown as string,
          headers: { 'Content-Type': 'image/jpeg' },
        }),
      ),
    ).resolves.toBeUndefined();
    expect(received).toEqual({ type: 'image/jpeg', size: 10 });
    await client.GET('/api/rooms', { params: { query: { status: 'live', q: '', category: undefined, limit: 24 } } });
    expect(query).toBe('?status=live&limit=24');
  });

  describe('an account the server refuses', () => {
    const suspended = () =>
      HttpResponse.json({ error: { code: 'account_suspended', message: 'This account is suspended.' } }, { status: 403 });
    const closed = () =>
      HttpResponse.json({ error: { code: 'account_closed', message: 'This account no longer exists.' } }, { status: 401 });

    it('ends the session on 403 account_suspended and keeps the reason, without refreshing', async () => {
      setAccessToken('t');
      let refreshes = 0;
      server.use(
        http.post('/api/auth/refresh', () => {
          refreshes += 1;
          return HttpResponse.json({ accessToken: 'again' });
        }),
        http.get('/api/users/balance', suspended),
      );
      await expect(body(client.GET('/api/users/balance'))).rejects.toMatchObject({ status: 403, code: 'account_suspended' });
      expect(getAccessToken()).toBeNull();
      expect(getAccountRefusal()).toEqual({ code: 'account_suspended', message: 'This account is suspended.' });
      expect(refreshes).toBe(0);
    });

    it('ends the session on 401 account_closed, which no refresh can mend', async () => {
      setAccessToken('t');
      let refreshes = 0;
      server.use(
        http.post('/api/auth/refresh', () => {
          refreshes += 1;
          return HttpResponse.json({ accessToken: 'again' });
        }),
        http.get('/api/users/me/history', closed),
      );
      await expect(body(client.GET('/api/users/me/history'))).rejects.toMatchObject({ status: 401, code: 'account_closed' });
      expect(getAccessToken()).toBeNull();
      expect(getAccountRefusal()?.code).toBe('account_closed');
      expect(refreshes).toBe(0);
    });

    it('keeps the reason when the refresh itself is refused, and a new session forgets it', async () => {
      localStorage.setItem('streamshare.hasSession', '1');
      server.use(http.post('/api/auth/refresh', suspended));
      await expect(refreshAccessToken()).resolves.toBeNull();
      expect(getAccountRefusal()?.code).toBe('account_suspended');
      // The next page load starts anonymous instead of refreshing again.
      expect(hasSessionHint()).toBe(false);

      setAccessToken('someone-else');
      expect(getAccountRefusal()).toBeNull();
    });

    it('does not end a newer session for a late answer about an old one', async () => {
      setAccessToken('old');
      let answer!: () => void;
      server.use(
        http.get('/api/users/balance', async () => {
          await new Promise<void>((r) => (answer = r));
          return suspended();
        }),
      );
      const call = body(client.GET('/api/users/balance'));
      await new Promise((r) => setTimeout(r, 20));
      setAccessToken('new');
      answer();
      await expect(call).rejects.toMatchObject({ code: 'account_suspended' });
      expect(getAccessToken()).toBe('new');
      expect(getAccountRefusal()).toBeNull();
    });

    it('is not a session ended when signing in is what was refused', async () => {
      server.use(http.post('/api/auth/login', suspended));
      await expect(body(client.POST('/api/auth/login', { body: { login: 'a', password: 'b' } }))).rejects.toMatchObject({
        code: 'account_suspended',
      });
      expect(getAccountRefusal()).toBeNull();
    });
  });
});
