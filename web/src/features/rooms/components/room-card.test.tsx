import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { RoomCard } from '@/features/rooms/components/room-card';
import { aRoom } from '@/testing/data';
import { renderWithApp } from '@/testing/render';

describe('RoomCard', () => {
  it('shows a lock on an end-to-end encrypted room, named for screen readers', () => {
    renderWithApp(<RoomCard room={aRoom({ e2ee: true })} />);
    expect(screen.getByRole('article')).toHaveTextContent('End-to-end encrypted');
  });

  it('says when the creator paused a live room for a private session', () => {
    renderWithApp(<RoomCard room={aRoom({ status: 'live', inPrivate: true })} />);
    expect(screen.getByRole('article')).toHaveTextContent('In a private session');
  });

  it('says nothing of private sessions on a running room', () => {
    renderWithApp(<RoomCard room={aRoom({ status: 'live', inPrivate: false })} />);
    expect(screen.getByRole('article')).not.toHaveTextContent('In a private session');
  });

  it('shows no lock on a plain room', () => {
    renderWithApp(<RoomCard room={aRoom()} />);
    expect(screen.getByRole('article')).not.toHaveTextContent('End-to-end encrypted');
  });
});
