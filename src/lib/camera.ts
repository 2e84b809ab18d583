// The camera, on the page: opening it (getUserMedia) with refusals turned into words, and grabbing
// the current frame as an ImageBitmap to hand (transferred) to the worker, which crops and resizes
// it. Grabbing a frame copies pixels; it does not decode anything.

/** Frames are sent at most this often while a record button is held, in ms (about 10 a second). */
export const CAPTURE_INTERVAL_MS = 100;
/** Live predictions are asked for at most this often, in ms (at most 5 a second). */
export const LIVE_PREDICT_INTERVAL_MS = 200;
/** How long opening the camera waits for the video to start playing, in ms. */
const PLAY_WAIT_MS = 2_000;

export function cameraError(error: unknown): string {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'Camera permission was refused. Allow the camera for this site in the browser, or add image files instead. Nothing was recorded.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Add image files instead.';
  if (name === 'NotReadableError') return 'The camera is in use by another program, or failed to start.';
  return `The camera could not start: ${error instanceof Error ? error.message : String(error)}`;
}

/** Starts the camera into `video`; throws an Error whose message is fit to show. */
export async function openCamera(video: HTMLVideoElement): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('This browser gives no camera access here (it needs https or localhost).');
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (error) {
    throw new Error(cameraError(error));
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  // play() may never settle for a video the page does not show; frames are read once it has data
  // (see grabFrame), so this waits only a moment for it.
  await Promise.race([video.play().catch(() => undefined), new Promise((r) => setTimeout(r, PLAY_WAIT_MS))]);
  return stream;
}

export function closeCamera(stream: MediaStream | null, video: HTMLVideoElement | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
  if (video) video.srcObject = null;
}

/** The video's current frame, or null before it has one. */
export async function grabFrame(video: HTMLVideoElement): Promise<ImageBitmap | null> {
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) return null;
  return createImageBitmap(video);
}
