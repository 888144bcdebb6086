// `damselfly sensor`: capture → events, printed as JSON lines (one event per line) or published to
// Kafka (the first stage of a scale-out pipeline).
import { parseArgs, helpText, INPUT_FLAGS, AFPACKET_FLAGS, FLOW_FLAGS, KAFKA_FLAGS, LOG_FLAGS, GRAPH_FLAG, type CommandSpec, type FlagSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { UserError } from '../../streams/errors.js';
import { runRole } from './common.js';
import { JSONL_FORMATS, type JsonlFormat } from '../../sinks/jsonl/index.js';

const FORMAT_FLAG: FlagSpec = { long: 'format', arg: 'FMT', help: 'Print the events on stdout, one per line: jsonl (as they are; the default without --kafka), ecs (Elastic Common Schema documents) or ipfix-json (IPFIX element names); output.format in the config' };
const OBSERVATION_FLAG: FlagSpec = { long: 'observation', arg: 'NAME', path: 'output.observation', help: 'Observation domain name' };

export const SENSOR: CommandSpec = {
  name: 'sensor',
  summary: 'Meter packets into flow and DNS/TLS/HTTP events: print them (one JSON object per line) or publish them to Kafka.',
  usage: 'damselfly sensor -i <capture|glob|iface> (--format jsonl|ecs|ipfix-json | --kafka BROKERS) [options]',
  config: true,
  flags: [...INPUT_FLAGS, ...AFPACKET_FLAGS, ...FLOW_FLAGS, OBSERVATION_FLAG, FORMAT_FLAG, ...KAFKA_FLAGS, ...LOG_FLAGS, GRAPH_FLAG],
  examples: ['damselfly sensor -i capture.pcap --format jsonl | jq .', 'damselfly sensor -i capture.pcap --kafka 127.0.0.1:9092 --observation sensor-01', 'damselfly sensor -i eth0 --live afpacket --format jsonl'],
};

export async function sensorCommand(argv: string[]): Promise<number> {
  const p = parseArgs(SENSOR, PROCESS_CONFIG, argv);
  if (p.help) {
    process.stdout.write(helpText(SENSOR, PROCESS_CONFIG));
    return 0;
  }
  const format = p.opts.format;
  if (format !== undefined && !JSONL_FORMATS.includes(String(format) as JsonlFormat)) throw new UserError(`--format ${String(format)}: unsupported (supported: ${JSONL_FORMATS.join(', ')})`);
  if (format !== undefined) p.config.output!.format = String(format);
  return runRole('sensor', p, { role: 'sensor', print: format !== undefined });
}
