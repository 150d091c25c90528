/** The editable fields of a room (`POST /api/rooms`, `PATCH /api/rooms/{id}`). */
export type RoomInput = {
  title: string;
  description: string;
  category: string;
  price: number;
  /** End-to-end encrypted (docs/e2ee.md); cannot change while the room is live. */
  e2ee: boolean;
};
