// `damselfly analyze`: analyzer workers over Kafka — each analyzer a consumer group on the topics of
// its hooks, alerts published to the alerts topic. Run more of them to share the load.
import { parseArgs, helpText, ANALYZE_FLAGS, KAFKA_FLAGS, LOG_FLAGS, GRAPH_FLAG, UNTIL_END_FLAG, type CommandSpec, type FlagSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { runRole } from './common.js';

const OBSERVATION_FLAG: FlagSpec = { long: 'observation', arg: 'NAME', path: 'output.observation', help: 'Name of this worker in its alerts and stats (an alert keeps the observation of its event)' };

export const ANALYZE: CommandSpec = {
  name: 'analyze',
  summary: 'Run the analyzers as a scale-out worker: consume events from Kafka, publish alerts to Kafka.',
  usage: 'damselfly analyze --kafka BROKERS [--analyzers DIR] [options]',
  config: true,
  flags: [...ANALYZE_FLAGS, OBSERVATION_FLAG, ...KAFKA_FLAGS.filter((f) => f.long !== 'group'), UNTIL_END_FLAG, ...LOG_FLAGS, GRAPH_FLAG],
  examples: ['damselfly analyze --kafka 127.0.0.1:9092', 'damselfly analyze --kafka 127.0.0.1:9092 --analyzers ./my-analyzers --until-end'],
};

export async function analyzeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(ANALYZE, PROCESS_CONFIG, argv);
  if (p.help) {
    process.stdout.write(helpText(ANALYZE, PROCESS_CONFIG));
    return 0;
  }
  return runRole('analyze', p, { role: 'analyze' });
}
