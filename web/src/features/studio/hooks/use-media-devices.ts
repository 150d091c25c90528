import { useCallback, useEffect, useState } from 'react';

import { hasMediaDevices, listDevices, type DeviceLists } from '@/lib/media';

const NONE: DeviceLists = { cameras: [], microphones: [] };

/** The cameras and microphones, kept current as devices come and go. */
export function useMediaDevices() {
  const [devices, setDevices] = useState<DeviceLists>(NONE);

  const refresh = useCallback(() => {
    listDevices().then(setDevices, () => setDevices(NONE));
  }, []);

  useEffect(() => {
    if (!hasMediaDevices()) return;
    refresh();
    navigator.mediaDevices.addEventListener('devicechange', refresh);
    return () => navigator.mediaDevices.removeEventListener('devicechange', refresh);
  }, [refresh]);

  return { ...devices, refresh, supported: hasMediaDevices() };
}
