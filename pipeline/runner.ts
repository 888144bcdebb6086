// Runs a PipelineGraph (graph.ts) and returns a report; the CLI prints it. One process, one
// transport (embedded, or Kafka shared with other processes):
//   1. the source starts first; its batches wait at the start gate (gate.ts)
//   2. sinks subscribe, then analyzers (a group that joins late only sees later events)
//   3. the gate opens: a topic nobody in this process consumes is not published (embedded only;
//      counted as skipped); over Kafka everything is
//   4. the run ends when the source has ended (or stop() was called: a live capture flushes its
//      flows), or — a stage without a source — on stop(), or with `until_end` once the producers
//      of its input have ended (Kafka control topic)
//   5. drain in graph order: every group of this process has handled the source's events; the
//      analyzers are stopped; the alert sink has every alert; then the transport closes (a Kafka
//      producer flushes) and the sinks write what they hold
// Over Kafka a process that publishes announces itself on the control topic (begin, then end once
// everything it published is acknowledged), which is how `until_end` stages know their input ended.
import type { Config } from '../streams/config.js';
import { EmbeddedTransport } from '../streams/embedded/index.js';
import type { EventBatch } from '../streams/events/batch.js';
import { topicFor, type EventType } from '../streams/events/table.js';
import { kafkaOptionsFromConfig } from '../streams/kafka/config.js';
import { log } from '../streams/log.js';
import type { Subscription, Transport, TransportStats } from '../streams/transport.js';
import { embeddedOptionsFromConfig } from '../streams/transport-config.js';
import { num } from '../streams/config.js';
import { FileSource, type SourceProgress, type SourceSummary } from '../sensor/src/file-source.js';
import { LiveSource } from '../sensor/src/live-source.js';
import { expandInput } from '../sensor/src/inputs.js';
import { CaptureWatch } from '../sensor/src/watch.js';
import type { AnalyzerStats, AnalyzersHandle } from '../analyzers/runtime/index.js';
import { analyzersOptionsFromConfig } from '../analyzers/runtime/options.js';
import { consumed, produced, type PipelineGraph, type Role } from './graph.js';
import { StartGate } from './gate.js';
import { problemLines } from './report.js';
import { SINK_KINDS, type AnySink, type SinkKind, type SinkResult, type SinkStats } from './sinks.js';

export interface PipelineReport {
  role: Role;
  elapsedMs: number;
  /** What the capture read (role run / sensor). */
  source?: SourceSummary;
  sinks: { kind: SinkKind; result: SinkResult; stats: SinkStats }[];
  analyzers?: { names: string[]; running: string[]; stats: Record<string, AnalyzerStats> };
  transport: TransportStats;
  /** Events not published because nothing in this process reads their topic (embedded transport). */
  skipped: Partial<Record<EventType, number>>;
  /** Events published but not delivered to every group, or shed (both counted by the transport). */
  lost: number;
  /** Groups that did not catch up with their input within the drain timeout (Kafka). */
  undrained: string[];
  /**
   * 0 when everything was read, analyzed and delivered; 1 when anything was not (report.ts
   * problemLines: a capture error, lost or shed events, a group behind, an analyzer that did not
   * start or was disabled, events an analyzer failed on, alerts not delivered to a webhook).
   */
  exitCode: number;
}

export interface PipelineHooks {
  onProgress?: (p: SourceProgress) => void;
  /** The live capture is open, or a stage is consuming. */
  onStarted?: (what: string) => void;
}

export interface RunningPipeline {
  /** Stop: a capture stops reading and flushes its flows; a stage stops consuming. Idempotent. */
  stop(): void;
  readonly done: Promise<PipelineReport>;
}

/** How long the end of a run waits for a Kafka group to catch up before reporting it. */
const DRAIN_TIMEOUT_MS = 300_000;

export function startPipeline(g: PipelineGraph, cfg: Config, hooks: PipelineHooks = {}): RunningPipeline {
  let stopRequested = false;
  let onStop: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (onStop = resolve));
  const ctl = { source: undefined as FileSource | LiveSource | undefined };
  const done = run(g, cfg, hooks, stopped, ctl);
  return {
    stop: () => {
      if (stopRequested) return;
      stopRequested = true;
      ctl.source?.stop();
      onStop?.();
    },
    done,
  };
}

async function run(g: PipelineGraph, cfg: Config, hooks: PipelineHooks, stopped: Promise<void>, ctl: { source: FileSource | LiveSource | undefined }): Promise<PipelineReport> {
  const start = Date.now();
  const prefix = g.transport.prefix;
  const topic = (t: EventType): string => topicFor(t, prefix);
  const kafkaMod = g.transport.kind === 'kafka' ? await import('../streams/kafka/index.js') : undefined;
  const kafka = kafkaMod ? new kafkaMod.KafkaTransport(kafkaOptionsFromConfig(cfg)!) : undefined;
  const transport: Transport = kafka ?? new EmbeddedTransport(embeddedOptionsFromConfig(cfg));
  const skipped: Partial<Record<EventType, number>> = {};
  const obname = g.source?.sensor.observation ?? String(cfg.output?.observation ?? 'damselfly');

  // 1. The source, behind the gate.
  let published: Set<EventType> = new Set(produced(g));
  const gate = new StartGate(async (b: EventBatch) => {
    if (!published.has(b.type)) {
      skipped[b.type] = (skipped[b.type] ?? 0) + b.length;
      return;
    }
    await transport.publish(topic(b.type), b);
    // Starting the analyzers takes a few hundred ms (sandboxes, models) while the sensor keeps
    // decoding: the gate holds up to four queues' worth (columnar events, ~300 bytes each).
  }, 4 * num(cfg, 'transport', 'queue_events'));
  let sourceRun: Promise<SourceSummary> | undefined;
  if (g.source) {
    const opts = { ...g.source.sensor };
    // In one process without analyzers, sinks that keep only flow end records let the sensor skip
    // start/update records, and skip its L7 parsers too when no sink reads L7 events (the lake's
    // dns/tls/http datasets do, unless output.parquet_datasets leaves them out).
    if (!kafka && !g.analyze && g.sinks.every((s) => s.flowEndsOnly)) {
      opts.statusEvents = false;
      if (!g.sinks.some((s) => s.readsL7)) opts.l7 = false;
    }
    // Live: the interface opens here (a bad interface throws before any sink starts).
    let src: FileSource | LiveSource;
    if (g.source.live) {
      src = new LiveSource(opts, g.source.live, gate.emit, hooks.onProgress, () => hooks.onStarted?.(`live capture on ${g.source!.live!.iface} (${g.source!.live!.type})`));
    } else if (g.source.watch) {
      const watch = new CaptureWatch(g.source.watch);
      hooks.onStarted?.(`watching ${g.source.watch.source} (${watch.seen} files read before, state ${watch.stateFile})`);
      src = new FileSource(opts, watch, gate.emit, hooks.onProgress, 65536, (f) => watch.markDone(f));
    } else {
      src = new FileSource(opts, expandInput(g.source.input), gate.emit, hooks.onProgress);
    }
    ctl.source = src;
    sourceRun = src.run();
    sourceRun.catch(() => undefined); // awaited below
  }
  const announced = kafka && produced(g).length > 0 ? await kafka.announce(g.role, obname, produced(g).map(topic)) : undefined;

  const subs: Subscription[] = [];
  const sinks: { kind: SinkKind; sink: AnySink }[] = [];
  let analyzers: AnalyzersHandle | undefined;
  let report: PipelineReport | undefined;
  try {
    // 2. Sinks, then analyzers.
    for (const s of g.sinks) {
      const sink = await SINK_KINDS[s.kind].create(cfg);
      await sink.open();
      sinks.push({ kind: s.kind, sink });
      for (const t of s.inputs) subs.push(await transport.subscribe<EventBatch>(topic(t), { group: s.group, maxBatch: 65536 }, (b) => sink.write(b)));
    }
    if (g.analyze) {
      const { startAnalyzers } = await import('../analyzers/runtime/index.js');
      analyzers = await startAnalyzers(transport, {
        ...analyzersOptionsFromConfig(cfg),
        topicPrefix: prefix,
        obname,
        // A long-running process picks up edited analyzers; a run over files does not need to.
        watch: g.role === 'analyze' || g.source?.kind === 'live',
      });
    }

    // 3. Open the gate.
    if (!kafka) published = new Set(produced(g).filter((t) => subscribedGroups(transport, topic(t)).length > 0));
    await gate.release();
    if (!g.source) hooks.onStarted?.(`consuming ${consumed(g).map(topic).join(' ')}`);

    // 4. Until the end of the input.
    let summary: SourceSummary | undefined;
    if (sourceRun) summary = await sourceRun;
    else if (g.untilEnd && kafka) await Promise.race([stopped, kafka.producersEnded(consumed(g).map(topic))]);
    else await stopped;

    // 5. Drain in graph order.
    const undrained: string[] = [];
    const drainTopics = async (types: readonly EventType[]): Promise<void> => {
      for (const t of types) {
        for (const group of subscribedGroups(transport, topic(t))) {
          if (!(await transport.drain(topic(t), group, DRAIN_TIMEOUT_MS))) {
            undrained.push(`${group}@${topic(t)}`);
            log('error', 'pipeline', `group ${group} did not catch up with ${topic(t)} within ${DRAIN_TIMEOUT_MS / 1000} s`);
          }
        }
      }
    };
    const inputEnded = summary !== undefined || g.untilEnd;
    if (inputEnded) await drainTopics(g.source ? g.source.emits : consumed(g).filter((t) => t !== 'alert'));
    // Which analyzers ran to the end: read before stop() (it marks every runner stopped).
    let running: string[] = [];
    if (analyzers) {
      if (inputEnded) await analyzers.idle();
      running = analyzers.names.filter((n) => analyzers!.runner(n)?.state !== 'disabled');
      await analyzers.stop();
    }
    if (inputEnded) await drainTopics(['alert']);
    const analyzerStats = analyzers ? { names: analyzers.names, running, stats: analyzers.stats() } : undefined;
    if (kafka) await kafka.flush();
    if (announced) await announced.end();
    await transport.close();
    await Promise.all(subs.map((s) => s.done));
    const sinkReports: PipelineReport['sinks'] = [];
    for (const { kind, sink } of sinks) sinkReports.push({ kind, result: await sink.close(), stats: sink.stats() });
    const tstats = transport.stats();
    // Lost: what a consumer group of a topic did not get (it failed or left), and what a Kafka
    // producer shed. Events of a topic nobody ever consumed in this process are not lost (skipped).
    const lost = Object.values(tstats.topics).reduce((a, t) => a + Object.values(t.groups).reduce((b, gs) => b + gs.undelivered, 0) + ((t as { shed?: number }).shed ?? 0), 0);
    report = {
      role: g.role,
      elapsedMs: Date.now() - start,
      ...(summary ? { source: summary } : {}),
      sinks: sinkReports,
      ...(analyzerStats ? { analyzers: analyzerStats } : {}),
      transport: tstats,
      skipped,
      lost,
      undrained,
      exitCode: 0,
    };
    report.exitCode = problemLines(report).length > 0 ? 1 : 0;
    return report;
  } finally {
    if (!report) {
      // Failed part-way: release what was started (errors of the cleanup are secondary).
      ctl.source?.stop();
      await analyzers?.stop().catch(() => undefined);
      await transport.close().catch(() => undefined);
      for (const { sink } of sinks) await sink.close().catch(() => undefined);
    }
  }
}

/** Groups of this process subscribed to `topic`. */
function subscribedGroups(transport: Transport, topic: string): string[] {
  return Object.entries(transport.stats().topics[topic]?.groups ?? {})
    .filter(([, s]) => s.subscribers > 0)
    .map(([g]) => g);
}

