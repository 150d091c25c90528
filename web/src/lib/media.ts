/** Cameras, microphones and still frames: the browser media APIs the studio uses. */

export type DeviceLists = { cameras: MediaDeviceInfo[]; microphones: MediaDeviceInfo[] };

export function hasMediaDevices(): boolean {
  return typeof navigator !== 'undefined' && navigator.mediaDevices !== undefined && 'getUserMedia' in navigator.mediaDevices;
}

/** Labels are empty until the page has been granted a camera or microphone once. */
export async function listDevices(): Promise<DeviceLists> {
  if (!hasMediaDevices()) return { cameras: [], microphones: [] };
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === 'videoinput' && d.deviceId !== ''),
    microphones: devices.filter((d) => d.kind === 'audioinput' && d.deviceId !== ''),
  };
}

export function openUserMedia(cameraId: string | null, microphoneId: string | null): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    video: cameraId
      ? { deviceId: { exact: cameraId }, width: { ideal: 1280 }, height: { ideal: 720 } }
      : { width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: microphoneId ? { deviceId: { exact: microphoneId } } : true,
  });
}

/** A person-readable reason for a getUserMedia failure. */
export function describeMediaError(error: unknown): string {
  if (error instanceof DOMException) {
    switch (error.name) {
      case 'NotAllowedError':
        return 'The browser was not allowed to use the camera or microphone. Allow it in the address bar and try again.';
      case 'NotFoundError':
        return 'No camera or microphone was found.';
      case 'NotReadableError':
        return 'The camera or microphone is in use by another application.';
      case 'OverconstrainedError':
        return 'The selected device is not available any more. Pick another one.';
      default:
        return error.message || error.name;
    }
  }
  return error instanceof Error ? error.message : 'The camera could not be opened.';
}

function toBlob(canvas: HTMLCanvasElement, quality: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/**
 * A JPEG of the video's current frame, at most `maxWidth` wide and
 * `maxBytes` large (lower quality until it fits). `null` if there is no frame.
 */
export async function captureJpeg(
  video: HTMLVideoElement,
  maxBytes: number,
  maxWidth = 640,
): Promise<Blob | null> {
  if (!video.videoWidth || !video.videoHeight) return null;
  const scale = Math.min(1, maxWidth / video.videoWidth);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  for (const quality of [0.8, 0.6, 0.4, 0.25]) {
    const blob = await toBlob(canvas, quality);
    if (blob && blob.size <= maxBytes) return blob;
  }
  return null;
}
