import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useEffectEvent } from 'react';

import { setSessionInCache } from '@/features/private/api/get-session';
import { getSessions } from '@/features/private/api/get-sessions';
import { privateKeys } from '@/features/private/api/keys';
import { getSocket, useSocketConnect, useSocketEvent } from '@/lib/socket';
import type { PrivateSession } from '@/types/api';

/** The requests waiting for this creator's answer, oldest first; never fetched, only written. */
export function useIncomingRequests(): PrivateSession[] {
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: privateKeys.incoming,
    queryFn: () => queryClient.getQueryData<PrivateSession[]>(privateKeys.incoming) ?? [],
    initialData: [],
    staleTime: Infinity,
    gcTime: Infinity,
  });
  return data;
}

function setIncoming(queryClient: QueryClient, update: (list: PrivateSession[]) => PrivateSession[]): void {
  queryClient.setQueryData<PrivateSession[]>(privateKeys.incoming, (list = []) => update(list));
}

/** The caller's active session, or `null`; never fetched, only written. */
export function useLiveSession(): PrivateSession | null {
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: privateKeys.live,
    queryFn: () => queryClient.getQueryData<PrivateSession | null>(privateKeys.live) ?? null,
    initialData: null,
    staleTime: Infinity,
    gcTime: Infinity,
  });
  return data;
}

function trackLive(queryClient: QueryClient, session: PrivateSession): void {
  queryClient.setQueryData<PrivateSession | null>(privateKeys.live, (live = null) => {
    if (session.state === 'active') return session;
    return live?.id === session.id ? null : live;
  });
}

/** Adds, replaces or (once answered, cancelled or expired) removes a request. */
function trackRequest(queryClient: QueryClient, session: PrivateSession, meId: string): void {
  if (session.creator.id !== meId) return;
  setIncoming(queryClient, (list) => {
    const rest = list.filter((s) => s.id !== session.id);
    return session.state === 'requested' ? [...rest, session] : rest;
  });
}

/** A request that expired while nobody answered it. */
export function dropRequest(queryClient: QueryClient, id: string): void {
  setIncoming(queryClient, (list) => list.filter((s) => s.id !== id));
}

/**
 * Private-session pushes into the query cache, mounted once for a
 * signed-in user: `private:request` (to the creator) and `private:update`
 * (to both). On every connect the open requests are read again, so a
 * reload or a lost connection does not lose one.
 */
export function usePrivateEvents(meId: string): void {
  const queryClient = useQueryClient();

  useSocketEvent('private:request', ({ session }) => {
    setSessionInCache(queryClient, session);
    trackRequest(queryClient, session, meId);
    void queryClient.invalidateQueries({ queryKey: privateKeys.sessionList() });
  });

  useSocketEvent('private:update', ({ session }) => {
    setSessionInCache(queryClient, session);
    trackRequest(queryClient, session, meId);
    trackLive(queryClient, session);
    void queryClient.invalidateQueries({ queryKey: privateKeys.sessionList() });
  });

  const catchUp = () => {
    getSessions(null).then(
      ({ items }) => {
        const now = Date.now();
        const open = items.filter(
          (s) => s.state === 'requested' && s.creator.id === meId && new Date(s.expiresAt).getTime() > now,
        );
        setIncoming(queryClient, () => open.reverse());
        queryClient.setQueryData(privateKeys.live, items.find((s) => s.state === 'active') ?? null);
        // Anything may have changed while the socket was away.
        void queryClient.invalidateQueries({ queryKey: privateKeys.sessions });
      },
      // Catching up is best effort: pushes still arrive.
      () => undefined,
    );
  };
  useSocketConnect(catchUp);
  // Connected before this mounted (signed in on another page): catch up now.
  const catchUpOnMount = useEffectEvent(catchUp);
  useEffect(() => {
    if (getSocket().connected) catchUpOnMount();
  }, []);
}
