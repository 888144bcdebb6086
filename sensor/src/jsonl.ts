// JSON-lines output of events with stream backpressure (awaits 'drain' when the pipe is full).
import type { Writable } from 'node:stream';

export async function writeJsonLines(out: Writable, events: readonly object[]): Promise<void> {
  if (events.length === 0) return;
  let chunk = '';
  for (const e of events) chunk += JSON.stringify(e) + '\n';
  if (!out.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onErr = (err: Error): void => reject(err);
      out.once('error', onErr);
      out.once('drain', () => {
        out.off('error', onErr);
        resolve();
      });
    });
  }
}
