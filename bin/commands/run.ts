// `damselfly run`: sensor → embedded transport → Parquet sink, in one process.
import { parseArgs, helpText, INPUT_FLAGS, AFPACKET_FLAGS, FLOW_FLAGS, OUTPUT_FLAGS, ANALYZER_FLAGS, KAFKA_FLAGS, LOG_FLAGS, type CommandSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../config-schema.js';
import { sensorOptions, liveOptions, str, num } from '../../sensor/src/config.js';
import { LiveSource } from '../../sensor/src/live-source.js';
import { expandInput } from '../../sensor/src/inputs.js';
import { FileSource, type EventEmitFn } from '../../sensor/src/file-source.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { kafkaOptionsFromConfig } from '../../streams/kafka/config.js';
import { topicFor, type FlowEvent, type AlertEvent, type SensorEvent } from '../../streams/schema.js';
import type { Transport } from '../../streams/transport.js';
import { UserError } from '../../streams/errors.js';
import type { Config } from '../../streams/config.js';
import { configureLog, log } from '../../streams/log.js';
import { progressReporter, summaryLine, captureErrorLine, stopOnSignals } from './common.js';

export const RUN: CommandSpec = {
  name: 'run',
  summary: 'Run the whole pipeline in one process: capture → flows → embedded transport → analyzers → Parquet and alerts.',
  usage: 'damselfly run -i <capture|glob> --parquet-dir DIR [options]',
  config: true,
  flags: [...INPUT_FLAGS, ...AFPACKET_FLAGS, ...FLOW_FLAGS, ...OUTPUT_FLAGS, ...ANALYZER_FLAGS, ...KAFKA_FLAGS, ...LOG_FLAGS],
  examples: ['damselfly run -i capture.pcap --parquet-dir ./flows', 'damselfly run -i eth0 --live pcap --parquet-dir ./flows', "damselfly run -i '/data/*.pcap' --parquet-dir ./flows --idle-timeout 60"],
};

export async function runCommand(argv: string[]): Promise<number> {
  const p = parseArgs(RUN, PROCESS_CONFIG, argv);
  if (p.help) {
    process.stdout.write(helpText(RUN));
    return 0;
  }
  return runPipeline(p.config);
}

/** The run pipeline on a validated config; also used by `damselfly demo`. Returns the exit code. */
export async function runPipeline(cfg: Config): Promise<number> {
  configureLog({ verbose: num(cfg, 'output', 'verbose'), file: str(cfg, 'output', 'log_file') });
  const source = str(cfg, 'input', 'source');
  if (!source) throw new UserError("run needs an input: -i <capture|glob> (or input.source in the config)");
  const dir = str(cfg, 'output', 'parquet_dir');
  if (!dir) throw new UserError('run needs an output directory: --parquet-dir DIR (or output.parquet_dir in the config)');
  const live = liveOptions(cfg);
  const files = live ? [] : expandInput(source);
  const opts = sensorOptions(cfg);
  const kopts = kafkaOptionsFromConfig(cfg);
  // In one process the Parquet sink keeps only flow end records; start/update records and
  // DNS/TLS/HTTP events exist for analyzers. Without analyzers the sensor skips making them.
  if (!kopts && cfg.analyzers?.builtins === false && !str(cfg, 'analyzers', 'dir')) {
    opts.l7 = false;
    opts.statusEvents = false;
  }

  const start = Date.now();
  // Embedded by default; with --kafka the same pipeline runs over topics other processes share.
  const kafka = kopts ? new (await import('../../streams/kafka/index.js')).KafkaTransport(kopts) : undefined;
  const transport: Transport = kafka ?? new EmbeddedTransport({ maxQueued: num(cfg, 'transport', 'queue_events') });
  const group = (name: string): string => str(cfg, 'kafka', 'group') ?? name;
  const prefix = str(cfg, 'transport', 'topic_prefix');
  const topic = topicFor('flow', prefix);

  // The first packet batches run on a worker thread while this thread loads DuckDB and the
  // analyzer sandboxes; events wait at the gate until every consumer has subscribed.
  // Until then, up to queue_events events are held here (memory stays bounded: past that the
  // source waits), so the worker keeps decoding while the consumers start.
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const bound = num(cfg, 'transport', 'queue_events');
  type Kind = 'flow' | 'dns' | 'tls' | 'http';
  let backlog: [Kind, SensorEvent[]][] | null = [];
  let backlogCount = 0;
  // Topics somebody consumes; set once every consumer subscribed. In one process nobody reads an
  // unconsumed topic, and holding its events would only fill the bounded queue and stall capture.
  let consumed = new Set<Kind>(['flow']);
  const skipped: Record<string, number> = {};
  const emitAny: EventEmitFn = async (batch) => {
    const type = batch.type as Kind;
    const events = batch.rows() as SensorEvent[];
    if (backlog) {
      if (backlogCount + events.length <= bound) {
        backlog.push([type, events]);
        backlogCount += events.length;
        return;
      }
      await gate;
    }
    await publishConsumed(type, events);
  };
  async function publishConsumed(type: Kind, events: SensorEvent[]): Promise<void> {
    if (!consumed.has(type)) {
      skipped[type] = (skipped[type] ?? 0) + events.length;
      return;
    }
    await transport.publish(topicFor(type, prefix), events);
  }
  // Live: the interface opens here (a bad interface throws before any sink starts) and the
  // first SIGINT/SIGTERM stops the capture; the final batch carries every flow, reason eof.
  const src = live
    ? new LiveSource(opts, live, emitAny, progressReporter(start), () => log('info', 'run', `live capture on ${live.iface} (${live.type}) started`))
    : new FileSource(opts, files, emitAny, progressReporter(start));
  const running = src.run();
  const disposeSignals = src instanceof LiveSource ? stopOnSignals('run', () => src.stop()) : () => {};
  running.catch(() => undefined); // awaited below; avoid an unhandled rejection while we set up

  const { ParquetSink } = await import('../../sinks/parquet/index.js');
  const sink = new ParquetSink({
    dir,
    observation: opts.observation,
    batchSize: num(cfg, 'output', 'parquet_batch_size'),
    prefix: str(cfg, 'output', 'parquet_file_prefix') ?? 'damselfly',
  });
  await sink.open();
  const sub = await transport.subscribe<FlowEvent>(topic, { group: group('sink.parquet'), maxBatch: 8192 }, (batch) => sink.write(batch));
  const analysis = await startAnalysis(cfg, transport, prefix, opts.observation);
  const subscribed = transport.stats().topics;
  // Over Kafka other processes may consume any topic, so everything is published.
  consumed = new Set(
    (['flow', 'dns', 'tls', 'http'] as const).filter(
      (t) => kafka !== undefined || Object.values(subscribed[topicFor(t, prefix)]?.groups ?? {}).some((g) => g.subscribers > 0),
    ),
  );
  // The source emits one batch at a time, so this flush cannot interleave with a later batch.
  // Batches the source adds meanwhile join the backlog, so order is kept.
  while (backlog.length > 0) {
    const [type, events] = backlog.shift()!;
    backlogCount -= events.length;
    await publishConsumed(type, events);
  }
  backlog = null;
  openGate();

  let summary;
  try {
    summary = await running;
    // Let every analyzer see every event before it stops, then drain alerts and sinks.
    if (kafka) {
      // Every event acked by the broker, then every group of this process caught up.
      const st = transport.stats().topics;
      for (const t of [...consumed].map((x) => topicFor(x, prefix))) {
        for (const [g, gs] of Object.entries(st[t]?.groups ?? {})) if (gs.subscribers > 0) await kafka.drain(t, g);
      }
    } else await drained(transport, [...consumed].map((t) => topicFor(t, prefix)));
    await analysis?.analyzers.idle();
    await analysis?.analyzers.stop();
    if (kafka && analysis) await kafka.drain(topicFor('alert', prefix), 'sink.alerts');
  } finally {
    disposeSignals();
    await analysis?.analyzers.stop();
    await transport.close();
    await sub.done;
    await analysis?.alertSub.done;
  }
  const alerts = (await analysis?.alertSink.close()) ?? { rows: 0 };
  const written = await sink.close();
  for (const e of summary.errors) log('error', 'sensor', captureErrorLine(e));
  process.stdout.write(
    summaryLine(summary, Date.now() - start, { parquet_files: written.files.length, parquet_rows: written.rows, analyzers: analysis?.analyzers.names.length ?? 0, alerts: alerts.rows }) + '\n',
  );
  for (const [type, n] of Object.entries(skipped)) log('debug', 'run', `${n} ${type} events not published: no consumer of ${topicFor(type as Kind, prefix)} in this process`);
  if (num(cfg, 'output', 'verbose') >= 2 || cfg.output?.stats === true) {
    process.stderr.write(`stats: ${JSON.stringify({ sensor: summary.stats, transport: transport.stats(), sink: sink.stats(), analyzers: analysis?.analyzers.stats(), alerts: analysis?.alertSink.stats() })}\n`);
  }
  return summary.errors.length > 0 ? 1 : 0;
}

/** Resolves once every group of these topics has handled everything published so far. */
async function drained(transport: Transport, topics: string[]): Promise<void> {
  for (;;) {
    const st = transport.stats().topics;
    if (topics.every((t) => (st[t]?.queued ?? 0) === 0)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Alert sink + analyzers (built-in and the user's). Loaded only when some analyzer may run, so
 * a plain capture-to-Parquet run does not pay for the sandbox runtime. Alerts subscribe first:
 * a group that joins late only sees later events.
 */
async function startAnalysis(cfg: Config, transport: Transport, prefix: string | undefined, obname: string) {
  const analyzerDir = str(cfg, 'analyzers', 'dir');
  const builtins = cfg.analyzers?.builtins !== false;
  if (!builtins && !analyzerDir) return undefined;
  const [{ startAnalyzers }, { AlertSink }] = await Promise.all([
    import('../../analyzers/runtime/index.js'),
    import('../../sinks/alerts/index.js'),
  ]);
  const alertFile = str(cfg, 'alerts', 'file');
  const webhook = str(cfg, 'alerts', 'webhook_url');
  const alertSink = new AlertSink({
    ...(alertFile ? { file: alertFile } : {}),
    stdout: cfg.alerts?.stdout === true,
    ...(webhook ? { webhook: { url: webhook } } : {}),
    suppressMs: num(cfg, 'alerts', 'suppress_seconds') * 1000,
  });
  await alertSink.open();
  const alertSub = await transport.subscribe<AlertEvent>(topicFor('alert', prefix), { group: 'sink.alerts' }, (b) => alertSink.write(b));
  const disable = (str(cfg, 'analyzers', 'disable') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const configDir = str(cfg, 'analyzers', 'config_dir');
  const configFiles: Record<string, string> = {};
  if (configDir) {
    let names: string[];
    try {
      names = readdirSync(configDir);
    } catch {
      throw new UserError(`analyzers.config_dir ${configDir}: cannot read the folder`);
    }
    for (const f of names) if (/\.ya?ml$/.test(f)) configFiles[f.replace(/\.ya?ml$/, '')] = join(configDir, f);
  }
  const analyzers = await startAnalyzers(transport, {
    configFiles,
    builtins,
    disable,
    dirs: analyzerDir ? [analyzerDir] : [],
    ...(prefix !== undefined ? { topicPrefix: prefix } : {}),
    obname,
    watch: false,
  });
  return { alertSink, alertSub, analyzers };
}
