import { RoomsBrowser } from '@/features/rooms/components/rooms-browser';
import { useDocumentTitle } from '@/lib/hooks';

export function HomeRoute() {
  useDocumentTitle('');
  return <RoomsBrowser />;
}
