// `damselfly sensor`: capture → flow events printed as JSON lines (one event per line).
import { parseArgs, helpText, INPUT_FLAGS, AFPACKET_FLAGS, FLOW_FLAGS, KAFKA_FLAGS, LOG_FLAGS, type CommandSpec, type FlagSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../config-schema.js';
import { sensorOptions, liveOptions, str, num } from '../../sensor/src/config.js';
import { LiveSource } from '../../sensor/src/live-source.js';
import { expandInput } from '../../sensor/src/inputs.js';
import { FileSource, type EventEmitFn } from '../../sensor/src/file-source.js';
import { kafkaOptionsFromConfig } from '../../streams/kafka/config.js';
import { topicFor } from '../../streams/schema.js';
import type { Config } from '../../streams/config.js';
import { writeJsonLines } from '../../sensor/src/jsonl.js';
import { UserError } from '../../streams/errors.js';
import { configureLog, log } from '../../streams/log.js';
import { progressReporter, summaryLine, captureErrorLine, stopOnSignals } from './common.js';

const FORMAT_FLAG: FlagSpec = { long: 'format', arg: 'FMT', help: 'Output format: jsonl (one event per line on stdout)' };
const OBSERVATION_FLAG: FlagSpec = { long: 'observation', arg: 'NAME', path: 'output.observation', help: 'Observation domain name' };

export const SENSOR: CommandSpec = {
  name: 'sensor',
  summary: 'Meter packets into flow and DNS/TLS/HTTP events: print them (one JSON object per line) or publish them to Kafka.',
  usage: 'damselfly sensor -i <capture|glob|iface> (--format jsonl | --kafka BROKERS) [options]',
  config: true,
  flags: [...INPUT_FLAGS, ...AFPACKET_FLAGS, ...FLOW_FLAGS, OBSERVATION_FLAG, FORMAT_FLAG, ...KAFKA_FLAGS, ...LOG_FLAGS],
  examples: ['damselfly sensor -i capture.pcap --format jsonl | jq .', 'damselfly sensor -i capture.pcap --kafka 127.0.0.1:9092 --observation sensor-01', 'damselfly sensor -i eth0 --live afpacket --format jsonl'],
};

export async function sensorCommand(argv: string[]): Promise<number> {
  const p = parseArgs(SENSOR, PROCESS_CONFIG, argv);
  if (p.help) {
    process.stdout.write(helpText(SENSOR));
    return 0;
  }
  const cfg = p.config;
  configureLog({ verbose: num(cfg, 'output', 'verbose'), file: str(cfg, 'output', 'log_file') });
  const format = String(p.opts.format ?? 'jsonl');
  if (format !== 'jsonl') throw new UserError(`--format ${format}: unsupported (supported: jsonl)`);
  const source = str(cfg, 'input', 'source');
  if (!source) throw new UserError('sensor needs an input: -i <capture|glob> (or input.source in the config)');
  const start = Date.now();
  const out = await openOutput(cfg, p.opts.format !== undefined);
  try {
    return await capture(cfg, source, start, out.emit);
  } finally {
    await out.close();
  }
}

interface Output {
  emit: EventEmitFn;
  close(): Promise<void>;
}

/** stdout (JSON lines) by default; with --kafka the events go to `<prefix>.<type>` topics. */
async function openOutput(cfg: Config, jsonlToo: boolean): Promise<Output> {
  const kopts = kafkaOptionsFromConfig(cfg);
  const stdout: EventEmitFn = (batch) => writeJsonLines(process.stdout, batch.rows());
  if (!kopts) return { emit: stdout, close: async () => {} };
  const { KafkaTransport } = await import('../../streams/kafka/index.js');
  const transport = new KafkaTransport(kopts);
  const prefix = str(cfg, 'transport', 'topic_prefix');
  return {
    emit: async (batch) => {
      if (jsonlToo) await stdout(batch);
      await transport.publish(topicFor(batch.type, prefix), batch.rows());
    },
    close: async () => {
      await transport.close(); // flushes what was accepted (bounded wait) before disconnecting
      const st = transport.stats();
      const shed = Object.values(st.topics).reduce((a, t) => a + t.shed, 0);
      const sent = Object.values(st.topics).reduce((a, t) => a + t.sent, 0);
      log(shed > 0 ? 'warn' : 'info', 'sensor', `kafka: ${sent} events sent${shed > 0 ? `, ${shed} shed (broker too slow or down)` : ''}`);
    },
  };
}

async function capture(cfg: Config, source: string, start: number, emit: EventEmitFn): Promise<number> {
  const live = liveOptions(cfg);
  if (live) {
    const src = new LiveSource(sensorOptions(cfg), live, emit, progressReporter(start), () =>
      log('info', 'sensor', `live capture on ${live.iface} (${live.type}) started`),
    );
    const dispose = stopOnSignals('sensor', () => src.stop());
    try {
      const summary = await src.run();
      for (const e of summary.errors) log('error', 'sensor', captureErrorLine(e));
      if (cfg.output?.stats === true) {
        const k = summary.stats;
        process.stderr.write(summaryLine(summary, Date.now() - start, { kernel_received: k.kernel_received, kernel_dropped: k.kernel_dropped, if_dropped: k.if_dropped }) + '\n');
      }
      return summary.errors.length > 0 ? 1 : 0;
    } finally {
      dispose();
    }
  }
  const files = expandInput(source);
  const src = new FileSource(sensorOptions(cfg), files, emit, progressReporter(start));
  const summary = await src.run();
  for (const e of summary.errors) log('error', 'sensor', captureErrorLine(e));
  if (cfg.output?.stats === true) process.stderr.write(summaryLine(summary, Date.now() - start) + '\n');
  return summary.errors.length > 0 ? 1 : 0;
}
