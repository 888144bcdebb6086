// `damselfly run`: the whole pipeline in one process (pipeline/: capture → topics → analyzers →
// Parquet and alerts), embedded by default or over Kafka with --kafka.
import { parseArgs, helpText, INPUT_FLAGS, AFPACKET_FLAGS, FLOW_FLAGS, OUTPUT_FLAGS, S3_FLAGS, ANALYZER_FLAGS, KAFKA_FLAGS, LOG_FLAGS, GRAPH_FLAG, type CommandSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { runRole } from './common.js';

export const RUN: CommandSpec = {
  name: 'run',
  summary: 'Run the whole pipeline in one process: capture → flows → transport → analyzers → Parquet and alerts.',
  usage: 'damselfly run -i <capture|glob|iface> --parquet-dir DIR [options]',
  config: true,
  flags: [...INPUT_FLAGS, ...AFPACKET_FLAGS, ...FLOW_FLAGS, ...OUTPUT_FLAGS, ...S3_FLAGS, ...ANALYZER_FLAGS, ...KAFKA_FLAGS, ...LOG_FLAGS, GRAPH_FLAG],
  examples: ['damselfly run -i capture.pcap --parquet-dir ./flows', 'damselfly run -i eth0 --live pcap --parquet-dir ./flows', "damselfly run -i '/data/*.pcap' --parquet-dir ./flows --idle-timeout 60", 'damselfly run -i capture.pcap --parquet-dir ./flows --graph'],
};

export async function runCommand(argv: string[]): Promise<number> {
  const p = parseArgs(RUN, PROCESS_CONFIG, argv);
  if (p.help) {
    process.stdout.write(helpText(RUN, PROCESS_CONFIG));
    return 0;
  }
  return runRole('run', p, { role: 'run' });
}
