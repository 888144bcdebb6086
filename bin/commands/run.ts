// `damselfly run`: sensor → embedded transport → Parquet sink, in one process.
import { parseArgs, helpText, INPUT_FLAGS, FLOW_FLAGS, OUTPUT_FLAGS, ANALYZER_FLAGS, LOG_FLAGS, type CommandSpec } from '../cli.js';
import { CONFIG_SCHEMA, sensorOptions, str, num } from '../../sensor/src/config.js';
import { expandInput } from '../../sensor/src/inputs.js';
import { FileSource } from '../../sensor/src/file-source.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type FlowEvent, type AlertEvent } from '../../streams/schema.js';
import type { Transport } from '../../streams/transport.js';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { AlertSink } from '../../sinks/alerts/index.js';
import { ParquetSink } from '../../sinks/parquet/index.js';
import { UserError } from '../../streams/errors.js';
import type { Config } from '../../streams/config.js';
import { configureLog, log } from '../../streams/log.js';
import { progressReporter, summaryLine, captureErrorLine } from './common.js';

export const RUN: CommandSpec = {
  name: 'run',
  summary: 'Run the whole pipeline in one process: capture → flows → embedded transport → analyzers → Parquet and alerts.',
  usage: 'damselfly run -i <capture|glob> --parquet-dir DIR [options]',
  config: true,
  flags: [...INPUT_FLAGS, ...FLOW_FLAGS, ...OUTPUT_FLAGS, ...ANALYZER_FLAGS, ...LOG_FLAGS],
  examples: ['damselfly run -i capture.pcap --parquet-dir ./flows', "damselfly run -i '/data/*.pcap' --parquet-dir ./flows --idle-timeout 60"],
};

export async function runCommand(argv: string[]): Promise<number> {
  const p = parseArgs(RUN, CONFIG_SCHEMA, argv);
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
  const files = expandInput(source);
  const opts = sensorOptions(cfg);

  const start = Date.now();
  const sink = new ParquetSink({
    dir,
    observation: opts.observation,
    batchSize: num(cfg, 'output', 'parquet_batch_size'),
    prefix: str(cfg, 'output', 'parquet_file_prefix') ?? 'damselfly',
  });
  await sink.open();
  const transport = new EmbeddedTransport({ maxQueued: num(cfg, 'transport', 'queue_events') });
  const prefix = str(cfg, 'transport', 'topic_prefix');
  const topic = topicFor('flow', prefix);
  const sub = await transport.subscribe<FlowEvent>(topic, { group: 'sink.parquet', maxBatch: 8192 }, (batch) => sink.write(batch));

  // Alerts sink first, then analyzers: a group that joins late only sees later events.
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
  const analyzerDir = str(cfg, 'analyzers', 'dir');
  const disable = (str(cfg, 'analyzers', 'disable') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const analyzers = await startAnalyzers(transport, {
    builtins: cfg.analyzers?.builtins !== false,
    disable,
    dirs: analyzerDir ? [analyzerDir] : [],
    ...(prefix !== undefined ? { topicPrefix: prefix } : {}),
    obname: opts.observation,
    watch: false,
  });

  const src = new FileSource(opts, files, (events) => transport.publish(topic, events), progressReporter(start));
  let summary;
  try {
    summary = await src.run();
    // Let every analyzer see every event before it stops, then drain alerts and sinks.
    await drained(transport, [topic]);
    await analyzers.idle();
  } finally {
    await analyzers.stop();
    await transport.close();
    await sub.done;
    await alertSub.done;
  }
  const alerts = await alertSink.close();
  const written = await sink.close();
  for (const e of summary.errors) log('error', 'sensor', captureErrorLine(e));
  process.stdout.write(
    summaryLine(summary, Date.now() - start, { parquet_files: written.files.length, parquet_rows: written.rows, analyzers: analyzers.names.length, alerts: alerts.rows }) + '\n',
  );
  if (num(cfg, 'output', 'verbose') >= 2 || cfg.output?.stats === true) {
    process.stderr.write(`stats: ${JSON.stringify({ sensor: summary.stats, transport: transport.stats(), sink: sink.stats(), analyzers: analyzers.stats(), alerts: alertSink.stats() })}\n`);
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
