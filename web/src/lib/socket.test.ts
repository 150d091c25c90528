import { describe, expect, it, vi } from 'vitest';

import { LazySocket } from '@/lib/socket';
import { deferred } from '@/testing/deferred';
import { FakeSocket } from '@/testing/fake-socket';

describe('the lazily loaded socket (issue 23)', () => {
  it('loads the library only on connect, then hands over listeners and queued emits in order', async () => {
    const real = new FakeSocket();
    real.connected = false;
    real.active = false;
    const loaded = deferred<FakeSocket>();
    const load = vi.fn(() => loaded.promise);
    const socket = new LazySocket(load);

    const onBalance = vi.fn();
    const dropped = vi.fn();
    socket.on('balance:update', onBalance);
    socket.on('room:ended', dropped);
    socket.off('room:ended', dropped);
    socket.emit('lobby:join', {});
    expect(load).not.toHaveBeenCalled();
    expect(socket.connected).toBe(false);
    expect(socket.active).toBe(false);

    socket.connect();
    socket.connect();
    expect(load).toHaveBeenCalledTimes(1);
    // Connecting (the library loads): like socket.io's own `active` while it retries.
    expect(socket.active).toBe(true);
    socket.emit('room:watch', { roomId: 'r-1' });

    loaded.resolve(real);
    await vi.waitFor(() => expect(real.connected).toBe(true));
    expect(real.emitted.map((e) => e.event)).toEqual(['lobby:join', 'room:watch']);
    real.serverEmit('balance:update', { coins: 5 });
    real.serverEmit('room:ended', { roomId: 'r-1' });
    expect(onBalance).toHaveBeenCalledWith({ coins: 5 });
    expect(dropped).not.toHaveBeenCalled();

    // From now on everything goes straight through.
    socket.emit('lobby:leave', {});
    expect(real.emitted.at(-1)?.event).toBe('lobby:leave');
    expect(socket.connected).toBe(true);
  });

  it('does not connect when the session ended while the library loaded', async () => {
    const real = new FakeSocket();
    real.connected = false;
    const loaded = deferred<FakeSocket>();
    const socket = new LazySocket(() => loaded.promise);
    socket.connect();
    socket.disconnect();
    loaded.resolve(real);
    await Promise.resolve();
    await Promise.resolve();
    expect(real.connected).toBe(false);
    expect(socket.active).toBe(real.active);
  });

  it('reports a failed load as a connect_error, and tries again on the next connect', async () => {
    const load = vi.fn(() => Promise.reject(new Error('Failed to fetch dynamically imported module')));
    const socket = new LazySocket(load);
    const onError = vi.fn();
    socket.on('connect_error', onError);
    socket.connect();
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    expect(socket.active).toBe(false);
    socket.connect();
    await vi.waitFor(() => expect(load).toHaveBeenCalledTimes(2));
  });
});
