// The declared pipeline: a graph value built from a validated config for one role, checked, and
// printable — sources → topics → analyzer groups → sinks — without starting anything. The runner
// (runner.ts) starts what the graph says.
//
//   run      source + analyzers + sinks in one process (embedded transport, or Kafka)
//   sensor   source → topics (Kafka), or → the jsonl sink (stdout)
//   analyze  topics (Kafka) → analyzer groups → alerts topic            (a scale-out worker)
//   sink     topics (Kafka) → one sink kind                             (a scale-out writer)
import type { Config } from '../streams/config.js';
import { bool, str } from '../streams/config.js';
import { UserError } from '../streams/errors.js';
import { HOOK_TYPES, SENSOR_EVENT_TYPES, topicFor, type EventType } from '../streams/events/table.js';
import { topicPrefixFromConfig } from '../streams/transport-config.js';
import { parseBrokers } from '../streams/kafka/options.js';
import { analyzersEnabled, analyzersOptionsFromConfig } from '../analyzers/runtime/options.js';
import { liveOptions, sensorOptions, watchOptions } from '../sensor/src/config.js';
import type { WatchOptions } from '../sensor/src/watch.js';
import type { LiveOptions } from '../sensor/src/live-sensor.js';
import type { SensorOptions } from '../sensor/src/native.js';
import { SINK_KINDS, type SinkKind, type SinkKindSpec } from './sinks.js';

export type Role = 'run' | 'sensor' | 'analyze' | 'sink';

export interface SourceNode {
  /** A capture file or glob, or a live interface. */
  kind: 'file' | 'live';
  input: string;
  live?: LiveOptions;
  /** Watch mode: rotated capture files as they are closed, until stopped. */
  watch?: WatchOptions;
  sensor: SensorOptions;
  /** Event types it publishes. */
  emits: readonly EventType[];
}

export interface AnalyzeNode {
  builtins: boolean;
  dirs: string[];
  disable: string[];
  /** Event types analyzers may read (each analyzer subscribes to those it has hooks for). */
  inputs: readonly EventType[];
  output: 'alert';
}

export interface SinkNode {
  kind: SinkKind;
  inputs: readonly EventType[];
  /** Of the flow records it reads only the end records (the sensor may skip start/update records for it). */
  flowEndsOnly: boolean;
  /** It reads L7 events. */
  readsL7: boolean;
  group: string;
  /** Where it writes, in words. */
  target: string;
}

export interface PipelineGraph {
  role: Role;
  transport: { kind: 'embedded' | 'kafka'; prefix: string; brokers?: string[] };
  source?: SourceNode;
  analyze?: AnalyzeNode;
  sinks: SinkNode[];
  /** analyze / sink over Kafka: exit once the input's producers have ended and it is drained. */
  untilEnd: boolean;
}

export interface GraphRequest {
  role: Role;
  /** sink role: the kind to run. */
  sink?: SinkKind;
  /** sensor role: print events (jsonl) as well as / instead of publishing. */
  print?: boolean;
}

/** Builds and checks the graph; throws UserError naming what is missing or inconsistent. */
export function buildGraph(cfg: Config, req: GraphRequest): PipelineGraph {
  const brokers = str(cfg, 'kafka', 'brokers');
  const kafka = brokers !== undefined && brokers !== '';
  const g: PipelineGraph = {
    role: req.role,
    transport: { kind: kafka ? 'kafka' : 'embedded', prefix: topicPrefixFromConfig(cfg), ...(kafka ? { brokers: parseBrokers(brokers) } : {}) },
    sinks: [],
    untilEnd: bool(cfg, 'pipeline', 'until_end'),
  };
  const needKafka = (what: string): void => {
    if (!kafka) throw new UserError(`${what} reads its input from Kafka: give --kafka BROKERS (or kafka.brokers in the config)`);
  };
  const addSink = (kind: SinkKind): void => {
    const k = SINK_KINDS[kind];
    const spec = k as SinkKindSpec;
    const inputs = typeof spec.inputs === 'function' ? spec.inputs(cfg) : spec.inputs;
    const readsL7 = spec.readsL7 ? spec.readsL7(cfg) : inputs.some((t) => t === 'dns' || t === 'tls' || t === 'http');
    g.sinks.push({ kind, inputs, flowEndsOnly: spec.flowEndsOnly === true, readsL7, group: str(cfg, 'kafka', 'group') ?? k.group, target: k.describe(cfg) });
  };

  if (req.role === 'run' || req.role === 'sensor') {
    const input = str(cfg, 'input', 'source');
    if (!input) throw new UserError(`${req.role} needs an input: -i <capture|glob|interface> (or input.source in the config)`);
    const live = liveOptions(cfg);
    const watch = watchOptions(cfg);
    g.source = { kind: live ? 'live' : 'file', input, ...(live ? { live } : {}), ...(watch ? { watch } : {}), sensor: sensorOptions(cfg), emits: SENSOR_EVENT_TYPES };
  }
  if (req.role === 'run') {
    if (analyzersEnabled(cfg)) g.analyze = analyzeNode(cfg);
    addSink('parquet');
    if (g.analyze) addSink('alerts');
  } else if (req.role === 'sensor') {
    if (!kafka || req.print) addSink('jsonl');
  } else if (req.role === 'analyze') {
    needKafka('damselfly analyze');
    if (!analyzersEnabled(cfg)) throw new UserError('analyze has no analyzer to run: the built-ins are off and no --analyzers DIR is given');
    g.analyze = analyzeNode(cfg);
  } else {
    if (!req.sink) throw new UserError('sink needs a kind: damselfly sink parquet|alerts');
    needKafka(`damselfly sink ${req.sink}`);
    addSink(req.sink);
  }
  checkGraph(g);
  return g;
}

function analyzeNode(cfg: Config): AnalyzeNode {
  const o = analyzersOptionsFromConfig(cfg);
  return { builtins: o.builtins !== false, dirs: o.dirs ?? [], disable: o.disable ?? [], inputs: HOOK_TYPES, output: 'alert' };
}

/** Types some node of this process publishes. */
export function produced(g: PipelineGraph): EventType[] {
  return [...(g.source?.emits ?? []), ...(g.analyze ? [g.analyze.output] : [])];
}

/** Types some node of this process consumes. */
export function consumed(g: PipelineGraph): EventType[] {
  return [...new Set([...(g.analyze?.inputs ?? []), ...g.sinks.flatMap((s) => s.inputs)])];
}

/**
 * In one process (embedded transport) every input must have a producer in the process; over Kafka
 * other processes may produce it. A sink that would never receive anything is a mistake to report.
 */
export function checkGraph(g: PipelineGraph): void {
  if (g.transport.kind !== 'embedded') return;
  const have = new Set(produced(g));
  for (const s of g.sinks) {
    const missing = s.inputs.filter((t) => !have.has(t));
    if (missing.length === s.inputs.length) {
      const why = s.kind === 'alerts' ? ' (no analyzer runs: the built-ins are off and no --analyzers DIR is given)' : '';
      throw new UserError(`sink ${s.kind} would receive nothing: nothing in this process publishes ${missing.join(', ')}${why}`);
    }
  }
}

/** The graph in words, one node per line. */
export function describeGraph(g: PipelineGraph): string {
  const t = (types: readonly EventType[]): string => types.map((x) => topicFor(x, g.transport.prefix)).join(' ');
  const lines: string[] = [`pipeline ${g.role} over ${g.transport.kind}${g.transport.brokers ? ` (${g.transport.brokers.join(',')})` : ''}${g.untilEnd ? ', until its input ends' : ''}`];
  if (g.source) lines.push(`  source   ${g.source.kind === 'live' ? `live ${g.source.live!.type} on` : g.source.watch ? 'watching' : 'capture'} ${g.source.input} (observation ${g.source.sensor.observation}) → ${t(g.source.emits)}`);
  if (g.analyze) {
    const which = [g.analyze.builtins ? `built-ins${g.analyze.disable.length ? ` except ${g.analyze.disable.join(',')}` : ''}` : '', ...g.analyze.dirs].filter(Boolean).join(' + ');
    lines.push(`  analyze  ${which} (group analyzer.<name> each) ← ${t(g.analyze.inputs)} → ${t([g.analyze.output])}`);
  }
  for (const s of g.sinks) lines.push(`  sink     ${s.kind} → ${s.target} (group ${s.group}) ← ${t(s.inputs)}`);
  return lines.join('\n');
}
