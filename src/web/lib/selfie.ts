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

/** One frame of the running camera as JPEG bytes. */
export async function captureSelfie(video: HTMLVideoElement): Promise<Uint8Array> {
  if (!video.videoWidth) throw new Error('Start the camera first.');
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('The browser cannot draw the picture.');
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
  if (!blob) throw new Error('The picture could not be encoded.');
  return new Uint8Array(await blob.arrayBuffer());
}
