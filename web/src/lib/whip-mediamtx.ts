/**
 * Publishing and playing through MediaMTX (docs/mediamtx.md), used by the
 * studio and the room page only when the server says `mediaBackend:
 * "mediamtx"`: a short-lived media token from `POST /api/rooms/{id}/media-token`
 * (the server applies the same access rules as its own SFU), then WHIP or
 * WHEP against MediaMTX with that token as the bearer.
 */
import { body, client } from '@/lib/api-client';
import { deleteSession, postOffer } from '@/lib/whip';

export type MediaAction = 'publish' | 'read';

/** `POST /api/rooms/{id}/media-token`. */
export const getMediaToken = (roomId: string, action: MediaAction) =>
  body(client.POST('/api/rooms/{id}/media-token', { params: { path: { id: roomId } }, body: { action } }));

/** A running WHIP/WHEP session on MediaMTX. */
export type MediamtxSession = {
  /** MediaMTX's SDP answer, for `setRemoteDescription`. */
  answer: string;
  /** Ends the session on MediaMTX (`DELETE` of its URL). */
  stop: () => Promise<void>;
};

/**
 * Sends `offer` for `action` on the room: a ticket, then the WHIP
 * (publish) or WHEP (read) exchange. ICE servers MediaMTX offers in `Link`
 * headers join the connection's own (they matter for a later ICE restart).
 */
export async function startMediamtxSession(
  pc: RTCPeerConnection,
  roomId: string,
  action: MediaAction,
  offer: string,
): Promise<MediamtxSession> {
  const ticket = await getMediaToken(roomId, action);
  const session = await postOffer(ticket.url, ticket.token, offer);
  if (session.iceServers.length > 0) {
    const config = pc.getConfiguration();
    pc.setConfiguration({ ...config, iceServers: [...(config.iceServers ?? []), ...session.iceServers] });
  }
  return { answer: session.answer, stop: () => deleteSession(session.location, ticket.token) };
}
