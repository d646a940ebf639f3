/**
 * Selfie capture for sessions whose policy requires one: the front camera into a <video>, one
 * frame downscaled to JPEG bytes (the socket refuses frames above its buffer limit).
 */

/** Longest side of the captured image; enough for face matching, well under 1 MiB as JPEG. */
const MAX_SIDE = 640;

export async function startCamera(video: HTMLVideoElement): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('This browser cannot use the camera.');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 } }, audio: false });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
}

export function stopCamera(video: HTMLVideoElement): void {
  const stream = video.srcObject;
  if (stream instanceof MediaStream) for (const track of stream.getTracks()) track.stop();
  video.srcObject = null;
  video.hidden = true;
}

/** Longest side of a liveness frame: the face mesh needs little, and six must fit in one message. */
const FRAME_SIDE = 320;

/**
 * `count` frames of the running camera spread evenly over `spanMs`, while the student performs
 * the liveness challenge. The pixels are the camera's, not mirrored like a preview may be.
 */
export async function captureFrames(video: HTMLVideoElement, count: number, spanMs: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const step = count > 1 ? spanMs / (count - 1) : 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, step));
    frames.push(await captureSelfie(video, FRAME_SIDE, 0.7));
  }
  return frames;
}

/** One frame of the running camera as JPEG bytes. */
export async function captureSelfie(video: HTMLVideoElement, maxSide = MAX_SIDE, quality = 0.85): Promise<Uint8Array> {
  if (!video.videoWidth) throw new Error('Start the camera first.');
  const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('The browser cannot draw the picture.');
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  if (!blob) throw new Error('The picture could not be encoded.');
  return new Uint8Array(await blob.arrayBuffer());
}
