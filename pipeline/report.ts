// The report of a pipeline run in words: the summary line the CLI prints last, the lines naming
// what failed, and the statistics object of --stats. Pure formatting; the CLI writes them.
import type { SourceSummary } from '../sensor/src/file-source.js';
import { SINK_KINDS } from './sinks.js';
import type { PipelineReport } from './runner.js';
import type { SinkStats } from '../sinks/sink.js';

export function captureErrorLine(e: SourceSummary['errors'][number]): string {
  return e.packetIndex > 0 || e.byteOffset > 0
    ? `${e.file}: ${e.message} (at packet ${e.packetIndex}, byte offset ${e.byteOffset}); flows before it were kept`
    : `${e.file}: ${e.message}`;
}

/** `summary: packets=… bytes=… flows=… files=… parquet_files=… … elapsed=…s packets/s=…` */
export function summaryLine(r: PipelineReport, extra: Record<string, string | number> = {}): string {
  const secs = r.elapsedMs / 1000;
  const f: Record<string, string | number> = {};
  if (r.source) Object.assign(f, { packets: r.source.packets, bytes: r.source.bytes, flows: r.source.flows, files: r.source.files });
  for (const s of r.sinks) {
    if (s.kind === 'parquet') f.parquet_files = s.result.files.length;
    f[SINK_KINDS[s.kind].rowsKey] = s.result.rows;
    // Where the alerts are (the default file beside the Parquet when none was configured).
    if (s.kind === 'alerts' && s.result.files.length > 0) f.alerts_file = s.result.files.join(',');
  }
  if (r.analyzers) f.analyzers = r.analyzers.running.length;
  if (r.analyzers && !r.sinks.some((s) => s.kind === 'alerts')) f.alerts = Object.values(r.analyzers.stats).reduce((a, s) => a + s.alerts, 0);
  if (r.lost > 0) f.lost = r.lost;
  // A live capture: the kernel's view of the socket.
  const k = r.source?.stats as Partial<Record<'kernel_received' | 'kernel_dropped' | 'if_dropped' | 'kernel_outgoing_skipped', number>> | undefined;
  if (k?.kernel_received !== undefined) Object.assign(f, { kernel_received: k.kernel_received, kernel_dropped: k.kernel_dropped, if_dropped: k.if_dropped, kernel_outgoing_skipped: k.kernel_outgoing_skipped ?? 0 });
  Object.assign(f, extra);
  f.elapsed = `${secs.toFixed(2)}s`;
  if (r.source) f['packets/s'] = Math.round(r.source.packets / Math.max(secs, 1e-6));
  return 'summary: ' + Object.entries(f).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** What went wrong, one line each, with the component it belongs to (for the log). */
export function problemLines(r: PipelineReport): [component: string, line: string][] {
  const out: [string, string][] = (r.source?.errors ?? []).map((e) => ['sensor', captureErrorLine(e)]);
  if (r.lost > 0) {
    for (const [t, s] of Object.entries(r.transport.topics)) {
      const groupsLost = Object.values(s.groups).reduce((a, g) => a + g.undelivered, 0) + ((s as { shed?: number }).shed ?? 0);
      if (groupsLost > 0) out.push(['transport', `${t}: ${groupsLost} events not delivered to every consumer (${Object.entries(s.groups).filter(([, g]) => g.undelivered > 0 || g.failed).map(([g, gs]) => `${g}${gs.failed ? ' failed' : ''}: ${gs.undelivered}`).join(', ') || 'shed by the producer'})`]);
    }
  }
  for (const g of r.undrained) out.push(['pipeline', `${g}: did not catch up with its input before the end of the run`]);
  if (r.analyzers) {
    for (const name of r.analyzers.names) {
      const st = r.analyzers.stats[name];
      if (!r.analyzers.running.includes(name)) {
        const never = st !== undefined && st.events === 0 && st.version === 0;
        out.push([`analyzer.${name}`, `analyzer ${name} ${never ? 'did not start' : 'was disabled'}${st?.lastError ? `: ${st.lastError}` : ''}`]);
      } else if (st && st.eventErrors > 0) {
        out.push([`analyzer.${name}`, `analyzer ${name} failed on ${st.eventErrors} of ${st.events} events${st.lastError ? ` (last: ${st.lastError})` : ''}`]);
      }
      if (st && st.loggedErrors > 0) out.push([`analyzer.${name}`, `analyzer ${name} reported ${st.loggedErrors} error${st.loggedErrors === 1 ? '' : 's'} (last: ${st.lastLoggedError})`]);
    }
  }
  for (const s of r.sinks) {
    const st = s.stats as SinkStats & { webhookDropped?: number };
    if ((st.webhookDropped ?? 0) > 0) out.push([`sink.${s.kind}`, `${st.webhookDropped} alerts not delivered to the webhook`]);
  }
  return out;
}

/**
 * The last line of a run that did not process or deliver everything (exit code 1): what was lost,
 * in one line. Undefined when nothing was.
 */
export function incompleteLine(r: PipelineReport): string | undefined {
  const p = problemLines(r);
  if (p.length === 0) return undefined;
  return `damselfly: incomplete (exit 1): ${p.map(([, line]) => line).join('; ')}`;
}

/** The object `--stats` prints. */
export function statsObject(r: PipelineReport): Record<string, unknown> {
  return {
    sensor: r.source?.stats,
    transport: r.transport,
    sinks: Object.fromEntries(r.sinks.map((s) => [s.kind, s.stats])),
    analyzers: r.analyzers?.stats,
    skipped: r.skipped,
  };
}
