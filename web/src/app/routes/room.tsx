import { useParams } from 'react-router';

import { ChatPanel } from '@/features/chat/components/chat-panel';
import { PrivateRequestButton } from '@/features/private/components/private-request-button';
import { RoomView } from '@/features/room/components/room-view';
import { useUser } from '@/lib/auth';

export function RoomRoute() {
  const { id = '' } = useParams();
  const { data: user, isPending } = useUser();
  if (isPending) return null;
  return (
    <RoomView
      key={id}
      roomId={id}
      user={user ?? null}
      renderCreatorActions={(room) => <PrivateRequestButton creator={room.creator} user={user ?? null} />}
      renderChat={({ joined, notice }) => (
        <ChatPanel roomId={id} enabled={joined} notice={notice} currentUser={user ?? null} />
      )}
    />
  );
}
