/**
 * WebRTC plumbing shared by watching and publishing: ICE servers from the
 * API, and the offer/answer steps of the signaling the server drives over
 * Socket.IO (`media:view` / `media:answer` / `media:offer`, `media:publish`).
 *
 * The SFU is ICE-lite (RFC 8445 §2.5): it never starts connectivity checks
 * and learns the browser's addresses from the browser's own checks, so the
 * optional trickle (`media:ice`) is not used. A local description is sent
 * once ICE gathering completes or after a short wait, whichever comes first,
 * so a full-ICE media server would still find candidates in it.
 */
import { queryOptions, type QueryClient } from '@tanstack/react-query';

import { ApiError, api, errorMessage } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { SocketAckError } from '@/lib/socket';

export type IceServersResponse = { iceServers: RTCIceServer[]; ttlSeconds: number };

export const getIceServers = () => api.get<IceServersResponse>('/media/ice-servers');

/** Without the endpoint (an older server) host candidates still work on a LAN. */
const NO_ICE_SERVERS: IceServersResponse = { iceServers: [], ttlSeconds: 300 };

export const iceServersQueryOptions = () =>
  queryOptions({
    queryKey: queryKeys.iceServers,
    queryFn: async () => {
      try {
        return await getIceServers();
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return NO_ICE_SERVERS;
        throw error;
      }
    },
    // TURN credentials are time-limited (TURN REST scheme): renew at half-life.
    staleTime: (query) => ((query.state.data?.ttlSeconds ?? 600) * 1000) / 2,
  });

export async function loadIceServers(queryClient: QueryClient): Promise<RTCIceServer[]> {
  const { iceServers } = await queryClient.fetchQuery(iceServersQueryOptions());
  return iceServers;
}

export function isWebRtcSupported(): boolean {
  return typeof window !== 'undefined' && typeof window.RTCPeerConnection === 'function';
}

const GATHER_WAIT_MS = 1_500;

/** Resolves when ICE gathering is complete, or after `timeoutMs`. */
export function waitForIceGathering(pc: RTCPeerConnection, timeoutMs = GATHER_WAIT_MS): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

function localSdp(pc: RTCPeerConnection): string {
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('The browser produced no session description.');
  return sdp;
}

/** Viewer side: applies the server's offer and returns the answer to send back. */
export async function answerOffer(pc: RTCPeerConnection, offerSdp: string): Promise<string> {
  await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  await waitForIceGathering(pc);
  return localSdp(pc);
}

/** Publisher side: adds the tracks send-only and returns the offer to send. */
export async function createPublishOffer(pc: RTCPeerConnection, stream: MediaStream): Promise<string> {
  for (const track of stream.getTracks()) {
    pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  }
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await waitForIceGathering(pc);
  return localSdp(pc);
}

/** A signaling failure, for a person. */
export function describeSignalingError(error: unknown): string {
  // An older server has no media events; a server may run without its SFU.
  if (error instanceof SocketAckError && (error.code === 'unknown_event' || error.code === 'media_unavailable')) {
    return 'Live video is not available on this server right now.';
  }
  return errorMessage(error);
}

/** Stops every track of a stream (camera light off). */
export function stopStream(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((track) => track.stop());
}
