import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { VideoPlayer } from '@/components/video-player';

let requestFullscreen: ReturnType<typeof vi.fn>;
beforeEach(() => {
  vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
  requestFullscreen = vi.fn(() => Promise.resolve());
  HTMLElement.prototype.requestFullscreen = requestFullscreen as unknown as HTMLElement['requestFullscreen'];
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function LivePlayer({ reconnecting = false }: { reconnecting?: boolean }) {
  const [theatre, setTheatre] = useState(false);
  return (
    <div>
      <label>
        Message <input />
      </label>
      <p data-testid="theatre">{theatre ? 'theatre' : 'default'}</p>
      <VideoPlayer
        stream={{} as MediaStream}
        label="Live video"
        live
        theatre={theatre}
        onTheatreChange={setTheatre}
        reconnecting={reconnecting}
        info={<span>12:03</span>}
      />
    </div>
  );
}

const video = () => screen.getByLabelText<HTMLVideoElement>('Live video');

describe('VideoPlayer (live)', () => {
  it('answers f, m and t, but not while typing in a field', async () => {
    render(<LivePlayer />);
    expect(video().muted).toBe(true);

    await userEvent.keyboard('m');
    expect(video().muted).toBe(false);
    expect(screen.getByRole('button', { name: 'Mute' })).toBeInTheDocument();
    await userEvent.keyboard('t');
    expect(screen.getByTestId('theatre')).toHaveTextContent('theatre');
    await userEvent.keyboard('f');
    expect(requestFullscreen).toHaveBeenCalledTimes(1);

    await userEvent.type(screen.getByLabelText('Message'), 'fmt');
    expect(screen.getByLabelText('Message')).toHaveValue('fmt');
    expect(video().muted).toBe(false);
    expect(screen.getByTestId('theatre')).toHaveTextContent('theatre');
    expect(requestFullscreen).toHaveBeenCalledTimes(1);
  });

  it('sets the volume with a named slider; zero mutes', () => {
    render(<LivePlayer />);
    const slider = screen.getByRole('slider', { name: 'Volume' });
    fireEvent.change(slider, { target: { value: '0.5' } });
    expect(video().volume).toBe(0.5);
    expect(video().muted).toBe(false);
    expect(slider).toHaveAttribute('aria-valuetext', '50%');
    fireEvent.change(slider, { target: { value: '0' } });
    expect(video().muted).toBe(true);
  });

  it('has a theatre toggle and shows what is passed over the picture', async () => {
    render(<LivePlayer />);
    expect(screen.getByText('12:03')).toBeInTheDocument();
    const theatre = screen.getByRole('button', { name: 'Theatre mode' });
    expect(theatre).toHaveAttribute('aria-pressed', 'false');
    await userEvent.click(theatre);
    expect(theatre).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByRole('button', { name: 'Fullscreen' })).toBeInTheDocument();
  });

  it('says it is reconnecting while the picture waits', () => {
    render(<LivePlayer reconnecting />);
    expect(screen.getByRole('status')).toHaveTextContent('Reconnecting…');
  });
});
