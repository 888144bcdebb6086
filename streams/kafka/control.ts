// The end-of-input protocol of a bounded run over Kafka, on the control topic `<prefix>.control`
// (1 partition, JSON framing, events of type `control`, keyed by producer id):
//   - a process that publishes announces itself: `begin` (producer = the transport instance's UUID,
//     role, topics) before its data, `end` (events published per topic) once everything it
//     published is acknowledged; both go through the normal producer, in order with the data, and
//     are flushed.
//   - `damselfly analyze|sink --until-end` waits on producersEnded(its input topics): it reads the
//     control topic from the beginning with a throw-away consumer group (deleted afterwards) and
//     resolves once every producer of those topics that was running when it was called, or began
//     after, has ended — after at least one such producer was seen. A producer whose begin AND end
//     both lie before the control topic's end offset at the call is history and ignored.
// A producer that died without `end` is waited for forever: the caller races this with its stop.
import { randomUUID } from 'node:crypto';
import { EventBatch } from '../events/batch.js';
import { EVENT_SCHEMA_VERSION, topicFor } from '../events/table.js';
import { InvalidArgumentError, TransportClosedError } from '../errors.js';
import { log } from '../log.js';
import type { ControlEvent } from '../schema.js';
import type { Subscription } from '../transport.js';
import { groupIdFor, type KafkaAdmin } from './admin.js';
import type { ControlPosition, KafkaSubscribeOptions } from './consumer.js';

const COMPONENT = 'kafka';

/** What control.ts needs of the transport. */
export interface ControlHost {
  /** This transport instance's producer id. */
  readonly id: string;
  readonly admin: KafkaAdmin;
  publish(topic: string, batch: EventBatch): Promise<void>;
  flush(timeoutMs?: number): Promise<boolean>;
  /** Published events per topic so far. */
  published(topic: string): number;
  /** A subscription that does not show in the transport's stats. */
  subscribeQuietly(topic: string, opts: KafkaSubscribeOptions): Promise<Subscription>;
}

export interface Announcement {
  /** Publish `end` (with the events published per topic) and flush it. Idempotent. */
  end(): Promise<void>;
}

/** The control topic of `topics` (all must share one prefix). */
export function controlTopicOf(topics: readonly string[]): string {
  if (topics.length === 0) throw new InvalidArgumentError('control: no topics given');
  const prefixes = new Set(topics.map((t) => t.slice(0, Math.max(0, t.lastIndexOf('.')))));
  if (prefixes.size !== 1) throw new InvalidArgumentError(`control: topics of different prefixes (${[...prefixes].join(', ')})`);
  const prefix = [...prefixes][0]!;
  return prefix === '' ? topicFor('control', 'damselfly') : topicFor('control', prefix);
}

function controlBatch(host: ControlHost, action: 'begin' | 'end', role: string, obname: string, topics: readonly string[], events: Record<string, number>): EventBatch<'control'> {
  const e: ControlEvent = {
    type: 'control', v: EVENT_SCHEMA_VERSION, obname, ts: Date.now() * 1000, producer: host.id, action, role, topics: [...topics], events,
  };
  return EventBatch.fromRows('control', [e]);
}

async function publishFlushed(host: ControlHost, topic: string, b: EventBatch): Promise<void> {
  await host.publish(topic, b);
  await host.flush();
}

export async function announce(host: ControlHost, role: string, obname: string, topics: readonly string[]): Promise<Announcement> {
  const ctl = controlTopicOf(topics);
  // The topics it will publish to are made now, all at once: made lazily, each would hold up the
  // producer's one send in flight for a round of topic creation (~0.3 s) in the middle of the run.
  await Promise.all([host.admin.ensureTopic(ctl, 1), ...topics.map((t) => host.admin.ensureTopic(t))]);
  await publishFlushed(host, ctl, controlBatch(host, 'begin', role, obname, topics, {}));
  log('debug', COMPONENT, 'announced begin', { producer: host.id, role, topics: topics.join(',') });
  let ended: Promise<void> | null = null;
  return {
    end: () => {
      ended ??= (async () => {
        const events: Record<string, number> = {};
        for (const t of topics) events[t] = host.published(t);
        await publishFlushed(host, ctl, controlBatch(host, 'end', role, obname, topics, events));
        log('debug', COMPONENT, 'announced end', { producer: host.id, role });
      })();
      return ended;
    },
  };
}

interface ProducerState {
  relevant: boolean;
  begin: ControlPosition | null;
  end: ControlPosition | null;
}

export async function producersEnded(host: ControlHost, topics: readonly string[]): Promise<void> {
  const ctl = controlTopicOf(topics);
  const wanted = new Set(topics);
  await host.admin.ensureTopic(ctl, 1);
  const ends = await host.admin.logEndOffsets(ctl);
  const before = (at: ControlPosition): boolean => at.offset < (ends[at.partition] ?? 0n);
  const producers = new Map<string, ProducerState>();
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const check = (): void => {
    let seen = 0;
    for (const p of producers.values()) {
      if (!p.relevant) continue;
      const history = p.end !== null && before(p.end) && (p.begin === null || before(p.begin));
      if (history) continue;
      if (p.end === null) return;
      seen++;
    }
    if (seen > 0) resolveAll();
  };
  const onControl = (e: ControlEvent, at: ControlPosition): void => {
    let p = producers.get(e.producer);
    if (!p) producers.set(e.producer, (p = { relevant: false, begin: null, end: null }));
    if ((e.topics ?? []).some((t) => wanted.has(t))) p.relevant = true;
    if (e.action === 'begin') p.begin = at;
    else if (e.action === 'end') p.end = at;
    check();
  };
  const group = `damselfly-until-end-${randomUUID()}`;
  const sub = await host.subscribeQuietly(ctl, { group, startFrom: 'earliest', onControl });
  try {
    // The subscription ending first means the transport closed under us: that is no end of input.
    await Promise.race([all, sub.done.then(() => Promise.reject(new TransportClosedError('kafka', ctl)))]);
  } finally {
    await sub.close();
    await host.admin.deleteGroup(groupIdFor(group, ctl)).catch((e: unknown) => log('debug', COMPONENT, `throw-away group not deleted: ${String(e)}`));
  }
}
