/**
 * WebRTC plumbing shared by watching and publishing: ICE servers from the
 * API, and the offer/answer steps of the signaling the server drives over
 * Socket.IO (`media:view` / `media:answer` / `media:offer`, `media:publish`).
 *
 * The SFU is ICE-lite (RFC 8445 §2.5): it never starts connectivity checks
 * and learns the browser's addresses from the browser's own checks. The
 * publisher's offer is sent once ICE gathering completes or after a short
 * wait, whichever comes first, so a full-ICE media server would still find
 * candidates in it. A viewer answers at once instead (trickle ICE, RFC 8838):
 * its candidates follow over `media:ice`, which the ICE-lite SFU accepts and
 * does not need. Waiting for gathering (STUN and TURN round trips) was most
 * of the time between the server's offer and the picture (issue 23).
 */
import { queryOptions, type QueryClient } from '@tanstack/react-query';

import { ApiError, body, client, errorMessage } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { SocketAckError } from '@/lib/socket';
import type { IceServersResponse } from '@/types/api';

/** Which media plane the server signals with (docs/mediamtx.md); absent from older servers. */
export type MediaBackend = NonNullable<IceServersResponse['mediaBackend']>;

export const getIceServers = () => body(client.GET('/api/media/ice-servers'));

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

/** The ICE servers and the media plane, from the same (cached) call. */
export async function loadMediaConfig(
  queryClient: QueryClient,
): Promise<{ iceServers: RTCIceServer[]; backend: MediaBackend }> {
  const { iceServers, mediaBackend } = await queryClient.fetchQuery(iceServersQueryOptions());
  return { iceServers, backend: mediaBackend ?? 'builtin' };
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

/**
 * Viewer side: applies the server's offer and returns the answer to send
 * back at once, without waiting for ICE gathering: the caller trickles the
 * candidates gathered after it (`onIceCandidate`).
 */
export async function answerOffer(pc: RTCPeerConnection, offerSdp: string): Promise<string> {
  await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  return localSdp(pc);
}

/**
 * Calls `send` with each local candidate as it is gathered, and `null` at the
 * end of gathering (RFC 8838 §4: end-of-candidates). Returns the unsubscribe.
 */
export function onIceCandidate(
  pc: RTCPeerConnection,
  send: (candidate: RTCIceCandidateInit | null) => void,
): () => void {
  const listener = (event: RTCPeerConnectionIceEvent) => send(event.candidate ? event.candidate.toJSON() : null);
  pc.addEventListener('icecandidate', listener);
  return () => pc.removeEventListener('icecandidate', listener);
}

/**
 * Publisher side: adds the tracks send-only and returns the offer to send.
 * `prepare` sees each transceiver before the offer (E2EE rooms attach the
 * frame encryption and choose the codec there).
 */
export async function createPublishOffer(
  pc: RTCPeerConnection,
  stream: MediaStream,
  prepare?: (transceiver: RTCRtpTransceiver) => void,
): Promise<string> {
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    prepare?.(transceiver);
  }
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await waitForIceGathering(pc);
  return localSdp(pc);
}

/**
 * Viewer side of WHEP (the viewer offers): receive-only audio and video,
 * the offer sent once ICE gathering completes (or after a short wait).
 */
export async function createReceiveOffer(pc: RTCPeerConnection): Promise<string> {
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
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
