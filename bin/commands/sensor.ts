// `damselfly sensor`: capture → flow events printed as JSON lines (one event per line).
import { parseArgs, helpText, INPUT_FLAGS, AFPACKET_FLAGS, FLOW_FLAGS, LOG_FLAGS, type CommandSpec, type FlagSpec } from '../cli.js';
import { CONFIG_SCHEMA, sensorOptions, liveOptions, str, num } from '../../sensor/src/config.js';
import { LiveSource } from '../../sensor/src/live-source.js';
import { expandInput } from '../../sensor/src/inputs.js';
import { FileSource } from '../../sensor/src/file-source.js';
import { writeJsonLines } from '../../sensor/src/jsonl.js';
import { UserError } from '../../streams/errors.js';
import { configureLog, log } from '../../streams/log.js';
import { progressReporter, summaryLine, captureErrorLine, stopOnSignals } from './common.js';

const FORMAT_FLAG: FlagSpec = { long: 'format', arg: 'FMT', help: 'Output format: jsonl (one event per line on stdout)' };
const OBSERVATION_FLAG: FlagSpec = { long: 'observation', arg: 'NAME', path: 'output.observation', help: 'Observation domain name' };

export const SENSOR: CommandSpec = {
  name: 'sensor',
  summary: 'Meter packets into flow events and print them (one JSON object per line).',
  usage: 'damselfly sensor -i <capture|glob> --format jsonl [options]',
  config: true,
  flags: [...INPUT_FLAGS, ...AFPACKET_FLAGS, ...FLOW_FLAGS, OBSERVATION_FLAG, FORMAT_FLAG, ...LOG_FLAGS],
  examples: ['damselfly sensor -i capture.pcap --format jsonl | jq .', 'damselfly sensor -i eth0 --live afpacket --format jsonl'],
};

export async function sensorCommand(argv: string[]): Promise<number> {
  const p = parseArgs(SENSOR, CONFIG_SCHEMA, argv);
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
  const live = liveOptions(cfg);
  if (live) {
    const src = new LiveSource(sensorOptions(cfg), live, (_type, events) => writeJsonLines(process.stdout, events), progressReporter(start), () =>
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
  const src = new FileSource(sensorOptions(cfg), files, (_type, events) => writeJsonLines(process.stdout, events), progressReporter(start));
  const summary = await src.run();
  for (const e of summary.errors) log('error', 'sensor', captureErrorLine(e));
  if (cfg.output?.stats === true) process.stderr.write(summaryLine(summary, Date.now() - start) + '\n');
  return summary.errors.length > 0 ? 1 : 0;
}
