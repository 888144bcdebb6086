// `damselfly sink <kind>`: one sink as a scale-out writer over Kafka (pipeline/sinks.ts lists the kinds).
import { parseArgs, helpText, OUTPUT_FLAGS, S3_FLAGS, ALERT_FLAGS, KAFKA_FLAGS, LOG_FLAGS, GRAPH_FLAG, UNTIL_END_FLAG, type CommandSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { SINK_KINDS, SINK_KIND_NAMES, isSinkKind } from '../../pipeline/sinks.js';
import { UserError } from '../../streams/errors.js';
import { runRole } from './common.js';

const KINDS = SINK_KIND_NAMES.filter((k) => k !== 'jsonl');

export const SINK: CommandSpec = {
  name: 'sink',
  summary: `Run one sink as a scale-out writer: consume its topic from Kafka and write.\nKinds:\n${KINDS.map((k) => `  ${k.padEnd(8)} ${SINK_KINDS[k].summary}`).join('\n')}`,
  usage: `damselfly sink ${KINDS.join('|')} --kafka BROKERS [options]`,
  config: true,
  flags: [...OUTPUT_FLAGS, ...S3_FLAGS, ...ALERT_FLAGS, ...KAFKA_FLAGS, UNTIL_END_FLAG, ...LOG_FLAGS, GRAPH_FLAG],
  examples: ['damselfly sink parquet --kafka 127.0.0.1:9092 --parquet-dir ./flows', 'damselfly sink alerts --kafka 127.0.0.1:9092 --alerts alerts.jsonl --until-end'],
};

export async function sinkCommand(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') {
    process.stdout.write(helpText(SINK, PROCESS_CONFIG));
    return kind === undefined ? 2 : 0;
  }
  if (!isSinkKind(kind) || kind === 'jsonl') throw new UserError(`sink: unknown kind '${kind}' (kinds: ${KINDS.join(', ')})`);
  const p = parseArgs(SINK, PROCESS_CONFIG, rest);
  if (p.help) {
    process.stdout.write(helpText(SINK, PROCESS_CONFIG));
    return 0;
  }
  return runRole(`sink.${kind}`, p, { role: 'sink', sink: kind });
}
