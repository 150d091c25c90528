/** The editable fields of a room (`POST /api/rooms`, `PATCH /api/rooms/{id}`). */
export type RoomInput = {
  title: string;
  description: string;
  category: string;
  price: number;
};
