// What the commands share: the progress line, signal handling, and running one role of the
// pipeline (build the graph, start it, print its report). The pipeline itself lives in pipeline/.
import { logEnabled, log, configureLogFromConfig } from '../../streams/log.js';
import type { SourceProgress } from '../../sensor/src/file-source.js';
import { buildGraph, describeGraph, type GraphRequest } from '../../pipeline/graph.js';
import { startPipeline } from '../../pipeline/runner.js';
import { incompleteLine, problemLines, statsObject, summaryLine } from '../../pipeline/report.js';
import type { Parsed } from '../cli.js';

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** Progress on stderr for long inputs: first line after `everyS` seconds, then every `everyS` (0: none). */
export function progressReporter(start: number, everyS = 2): (p: SourceProgress) => void {
  if (!(everyS > 0)) return () => undefined;
  const every = everyS * 1000;
  let next = start + every;
  const tty = process.stderr.isTTY === true;
  return (p) => {
    const now = Date.now();
    if (now < next || !logEnabled('info')) return;
    next = now + every;
    const secs = (now - start) / 1000;
    const line = `progress: file ${p.fileIndex + 1}/${p.files} packets=${formatCount(p.packets)} flows=${formatCount(p.flows)} rate=${formatCount(Math.round(p.packets / secs))} pkt/s`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    if (tty) process.once('beforeExit', () => process.stderr.write('\n'));
  };
}

/**
 * The first SIGINT/SIGTERM calls stop() (a capture then flushes every flow with reason eof, a stage
 * stops consuming, and the command exits normally); a second one exits at once. `what` says what
 * stopping does. Returns a disposer.
 */
export function stopOnSignals(component: string, stop: () => void, what = 'stopping capture, flushing flows'): () => void {
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
    if (logEnabled('info')) process.stderr.write(`${component}: ${sig}: ${what}\n`);
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Runs one role of the pipeline for a parsed command line: `--graph` prints the graph instead.
 * The summary goes to stderr (stdout carries data only: events or alerts).
 */
export async function runRole(component: string, p: Parsed, req: GraphRequest): Promise<number> {
  configureLogFromConfig(p.config);
  if (p.opts['test-s3'] === true) {
    // --test-s3: put, read and delete a probe object with the s3 settings, one line, and exit.
    const { testS3FromConfig } = await import('../../sinks/s3/index.js');
    process.stdout.write((await testS3FromConfig(p.config)).line + '\n');
    return 0;
  }
  const g = buildGraph(p.config, req);
  if (p.opts.graph === true) {
    process.stdout.write(describeGraph(g) + '\n');
    return 0;
  }
  log('debug', component, describeGraph(g));
  const start = Date.now();
  const running = startPipeline(g, p.config, {
    onProgress: progressReporter(start, Number(p.config.output?.progress_s ?? 2)),
    onStarted: (what) => log('info', component, `${what} started`),
  });
  const dispose = stopOnSignals(component, () => running.stop(), g.source ? undefined : 'stopping, writing what was taken');
  try {
    const r = await running.done;
    for (const [who, line] of problemLines(r)) log('error', who, line);
    // The summary (like progress and logs) goes to stderr, always: stdout is data (events, alerts).
    const quietSummary = req.role === 'sensor' && p.config.output?.stats !== true;
    if (!quietSummary) process.stderr.write(summaryLine(r) + '\n');
    // `sensor --stats` prints its summary only (its stderr is read by scripts); the rest also print
    // every counter.
    const verbose = Number(p.config.output?.verbose) >= 2;
    if (verbose || (p.config.output?.stats === true && req.role !== 'sensor')) process.stderr.write(`stats: ${JSON.stringify(statsObject(r))}\n`);
    // The last line says what was not processed or delivered, whenever the exit code says so.
    const incomplete = incompleteLine(r);
    if (incomplete) process.stderr.write(incomplete + '\n');
    return r.exitCode;
  } finally {
    dispose();
  }
}
