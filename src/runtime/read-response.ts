/**
 * A fetch Response's body read chunk by chunk, so that a loading bar can follow a model's bytes
 * as they arrive; the total is the Content-Length where it counts the bytes read (no content
 * encoding), else known only at the end.
 */
import type { LoadProgress } from './types.js';

export type ByteProgress = (progress: Omit<LoadProgress, 'stage'>) => void;

/** The length the body will have once read, where the headers say it. */
function bodyLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return undefined; // the compressed size
  const text = response.headers.get('content-length');
  if (text === null || !/^\s*\d+\s*$/.test(text)) return undefined;
  return Number(text);
}

/** The body's bytes; `onProgress` hears of every chunk, and last of all { loaded: n, total: n }. */
export async function readResponseBytes(response: Response, onProgress: ByteProgress): Promise<Uint8Array> {
  const expected = bodyLength(response);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      // a body longer than its Content-Length (a lying server) must not show past 100%
      if (expected === undefined || loaded < expected) onProgress({ loaded, total: expected });
    }
  }
  onProgress({ loaded, total: loaded });
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
