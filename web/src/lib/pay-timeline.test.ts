import { afterEach, describe, expect, it, vi } from 'vitest';

import { getPayTimeline, markPayStep, resetPayTimelineForTesting, startPayTimeline } from '@/lib/pay-timeline';

describe('the pay timeline', () => {
  afterEach(() => resetPayTimelineForTesting());

  it('records each step once, as ms since the click, in performance marks and on window', () => {
    const now = vi.spyOn(performance, 'now');
    let t = 1_000;
    now.mockImplementation(() => t);
    vi.spyOn(performance, 'mark').mockImplementation((name: string) => ({ name, startTime: t }) as PerformanceMark);

    startPayTimeline('r-1');
    t = 1_040;
    markPayStep('r-1', 'paid');
    t = 1_100.25;
    markPayStep('r-1', 'offer');
    t = 1_500;
    // A renegotiation's second offer keeps the first time.
    markPayStep('r-1', 'offer');

    expect(getPayTimeline()).toEqual({
      roomId: 'r-1',
      at: { click: 1_000, paid: 1_040, offer: 1_100.25 },
      sinceClick: { click: 0, paid: 40, offer: 100.3 },
    });
    expect(window.__ssPayTimeline?.sinceClick).toEqual({ click: 0, paid: 40, offer: 100.3 });
    expect(performance.mark).toHaveBeenCalledWith('streamshare:pay:paid');
  });

  it('records nothing without a Pay click, or for another room', () => {
    markPayStep('r-1', 'firstFrame');
    expect(getPayTimeline()).toBeNull();
    expect(window.__ssPayTimeline).toBeUndefined();

    startPayTimeline('r-1');
    markPayStep('r-2', 'paid');
    expect(getPayTimeline()?.at.paid).toBeUndefined();
  });

  it('starts over on a second click (a failed payment tried again)', () => {
    startPayTimeline('r-1');
    markPayStep('r-1', 'paid');
    startPayTimeline('r-1');
    expect(Object.keys(getPayTimeline()?.at ?? {})).toEqual(['click']);
  });
});
