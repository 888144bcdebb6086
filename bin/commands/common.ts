// Shared wiring for commands that read captures: progress line and the end-of-run summary.
import { logEnabled } from '../../streams/log.js';
import type { SourceProgress, SourceSummary } from '../../sensor/src/file-source.js';

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** Progress on stderr for long inputs: first line after 2 s, then every 2 s. */
export function progressReporter(start: number): (p: SourceProgress) => void {
  let next = start + 2000;
  const tty = process.stderr.isTTY === true;
  return (p) => {
    const now = Date.now();
    if (now < next || !logEnabled('info')) return;
    next = now + 2000;
    const secs = (now - start) / 1000;
    const line = `progress: file ${p.fileIndex + 1}/${p.files} packets=${formatCount(p.packets)} flows=${formatCount(p.flows)} rate=${formatCount(Math.round(p.packets / secs))} pkt/s`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    if (tty) process.once('beforeExit', () => process.stderr.write('\n'));
  };
}

export function captureErrorLine(e: SourceSummary['errors'][number]): string {
  return e.packetIndex > 0 || e.byteOffset > 0
    ? `${e.file}: ${e.message} (at packet ${e.packetIndex}, byte offset ${e.byteOffset}); flows before it were kept`
    : `${e.file}: ${e.message}`;
}

export function summaryLine(s: SourceSummary, elapsedMs: number, extra: Record<string, string | number> = {}): string {
  const secs = elapsedMs / 1000;
  const fields: Record<string, string | number> = {
    packets: s.packets,
    bytes: s.bytes,
    flows: s.flows,
    files: s.files,
    ...extra,
    elapsed: `${secs.toFixed(2)}s`,
    'packets/s': Math.round(s.packets / Math.max(secs, 1e-6)),
  };
  return 'summary: ' + Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' ');
}

/**
 * Live capture: the first SIGINT/SIGTERM calls stop() (the source then flushes every flow with
 * reason eof and the command exits 0); a second one exits at once. Returns a disposer.
 */
export function stopOnSignals(component: string, stop: () => void): () => void {
  let stopping = false;
  let firstAt = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    // One Ctrl-C can arrive twice: from the terminal (process group) and forwarded by the CLI
    // that re-ran itself with --no-node-snapshot. A repeat within a second is the same request.
    if (stopping && Date.now() - firstAt < 1000) return;
    if (stopping) {
      process.stderr.write(`${component}: ${sig} again, exiting without flushing\n`);
      process.exit(130);
    }
    stopping = true;
    firstAt = Date.now();
    if (logEnabled('info')) process.stderr.write(`${component}: ${sig}: stopping capture, flushing flows\n`);
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
