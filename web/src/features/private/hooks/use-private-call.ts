import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { setSessionInCache } from '@/features/private/api/get-session';
import { privateKeys } from '@/features/private/api/keys';
import { PrivateCall, type CallState } from '@/features/private/api/private-call';
import { getSocket, useSocketConnect } from '@/lib/socket';
import { isWebRtcSupported, loadIceServers } from '@/lib/webrtc';

const IDLE: CallState = { joined: false, sending: 'idle', receiving: 'connecting', remote: null, error: null };

/**
 * The session's media while `active`: joins, publishes `local` once there is
 * one, and receives the other party. Starts over after a socket reconnect
 * (the server forgot this page's join and peers with the old socket) and
 * on `retry`.
 */
export function usePrivateCall(sessionId: string, active: boolean, local: MediaStream | null) {
  const queryClient = useQueryClient();
  const supported = isWebRtcSupported();
  const [generation, setGeneration] = useState(0);
  const [state, setState] = useState<CallState & { generation: number }>({ ...IDLE, generation: -1 });
  const callRef = useRef<PrivateCall | null>(null);
  // Emits made before the first connect wait for it (Socket.IO buffers them):
  // only a connect after one seen is a reconnect.
  const connectedBefore = useRef(getSocket().connected);

  useSocketConnect(() => {
    if (connectedBefore.current) setGeneration((g) => g + 1);
    connectedBefore.current = true;
  });

  useEffect(() => {
    if (!active || !supported) return;
    const call = new PrivateCall(sessionId, loadIceServers(queryClient), {
      onSession: (session) => setSessionInCache(queryClient, session),
      // Not active any more (ended meanwhile) or not ours: the session says which.
      onRefused: () => void queryClient.invalidateQueries({ queryKey: privateKeys.session(sessionId) }),
    });
    callRef.current = call;
    // Until its first change the call is as fresh as IDLE (see `current` below).
    const unsubscribe = call.subscribe(() => setState({ ...call.state, generation }));
    return () => {
      unsubscribe();
      call.close();
      if (callRef.current === call) callRef.current = null;
    };
  }, [active, supported, sessionId, generation, queryClient]);

  useEffect(() => {
    if (local && active) void callRef.current?.publish(local);
  }, [local, active, generation]);

  const current = state.generation === generation ? state : IDLE;
  return {
    supported,
    ...current,
    retry: () => setGeneration((g) => g + 1),
  };
}
