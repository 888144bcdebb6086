// THE table of sink kinds: what each consumes, under which consumer group, when it runs, how it is
// configured and built. A new sink (S3 upload, pcap trigger policy, ...) is one entry here plus its
// implementation under sinks/; the graph, the runner and `damselfly sink <kind>` take it from here.
import { str, type Config } from '../streams/config.js';
import type { EventBatch } from '../streams/events/batch.js';
import { SENSOR_EVENT_TYPES, type EventType } from '../streams/events/table.js';
import type { Sink, SinkResult, SinkStats } from '../sinks/sink.js';
import type { JsonlFormat } from '../sinks/jsonl/index.js';
import { parquetSinkOptionsFromConfig, resolveParquetSinkOptions, lakeDatasets, DATASET_TYPE } from '../sinks/parquet/config.js';
import { alertSinkOptionsFromConfig, describeAlertOutputs } from '../sinks/alerts/config.js';
import { UserError } from '../streams/errors.js';

export type AnySink = Sink<EventBatch<never>, SinkStats> & { write(batch: EventBatch): Promise<void> };

export interface SinkKindSpec {
  readonly summary: string;
  /** Event types it consumes (or, for a sink whose config picks them, a function of the config). */
  readonly inputs: readonly EventType[] | ((cfg: Config) => readonly EventType[]);
  /** Its consumer group (one per kind: sinks of one kind in several processes share the work). */
  readonly group: string;
  /** Key of the report's summary line for its rows. */
  readonly rowsKey: string;
  /** Of the flow records it reads only the end records (the sensor may skip start/update records for it). */
  readonly flowEndsOnly?: boolean;
  /** Whether it reads L7 events (dns/tls/http): without a reader of them the sensor may skip its L7 parsers. */
  readonly readsL7?: (cfg: Config) => boolean;
  /** Where its output goes, in words; throws UserError when the config lacks what it needs. */
  describe(cfg: Config): string;
  create(cfg: Config): Promise<AnySink>;
}

export const SINK_KINDS = {
  parquet: {
    summary: 'the lake: flow end records (tiered) and the dns, tls, http and alerts datasets → hive-partitioned zstd Parquet',
    inputs: (cfg) => lakeDatasets(cfg).map((d) => DATASET_TYPE[d]),
    group: 'sink.parquet',
    rowsKey: 'parquet_rows',
    flowEndsOnly: true,
    readsL7: (cfg) => lakeDatasets(cfg).some((d) => d === 'dns' || d === 'tls' || d === 'http'),
    describe(cfg) {
      const o = parquetSinkOptionsFromConfig(cfg);
      if (!o) throw new UserError('the parquet sink needs an output directory: --parquet-dir DIR (or output.parquet_dir in the config)');
      resolveParquetSinkOptions(o);
      return o.dir;
    },
    async create(cfg) {
      const { ParquetSink } = await import('../sinks/parquet/index.js');
      const o = parquetSinkOptionsFromConfig(cfg)!;
      // With s3.bucket set, every finished file goes through the durable S3 spool.
      const { S3Spool } = await import('../sinks/s3/index.js');
      const spool = await S3Spool.fromConfig(cfg);
      return new ParquetSink({ ...o, ...(spool ? { shipper: spool } : {}) }) as unknown as AnySink;
    },
  },
  alerts: {
    summary: 'alerts → JSONL file, stdout, webhook (suppressed per analyzer and key)',
    inputs: ['alert'],
    group: 'sink.alerts',
    rowsKey: 'alerts',
    describe: (cfg) => describeAlertOutputs(alertSinkOptionsFromConfig(cfg)),
    async create(cfg) {
      const { AlertSink } = await import('../sinks/alerts/index.js');
      return new AlertSink(alertSinkOptionsFromConfig(cfg)) as unknown as AnySink;
    },
  },
  jsonl: {
    summary: 'events → one JSON object per line on stdout',
    inputs: SENSOR_EVENT_TYPES,
    group: 'sink.jsonl',
    rowsKey: 'events',
    describe: () => 'stdout',
    async create(cfg) {
      const { JsonlSink } = await import('../sinks/jsonl/index.js');
      return new JsonlSink(process.stdout, (str(cfg, 'output', 'format') ?? 'jsonl') as JsonlFormat) as unknown as AnySink;
    },
  },
} as const satisfies Record<string, SinkKindSpec>;

export type SinkKind = keyof typeof SINK_KINDS;

export const SINK_KIND_NAMES = Object.keys(SINK_KINDS) as SinkKind[];

export function isSinkKind(k: string): k is SinkKind {
  return Object.prototype.hasOwnProperty.call(SINK_KINDS, k);
}

export type { SinkResult, SinkStats };
