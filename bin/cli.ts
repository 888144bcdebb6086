// Argument parsing for the damselfly CLI: flag tables per command, --help text, and overlaying
// flags onto the validated YAML config. No product logic lives here.
import { UserError } from '../streams/errors.js';
import { checkValue, loadConfigFile, defaults, type Config, type ConfigSchema } from '../streams/config.js';

export interface FlagSpec {
  long: string;
  short?: string;
  /** Metavar for flags taking a value; absent for booleans/counters. */
  arg?: string;
  /** Config path `section.key` this flag overrides. */
  path?: string;
  /** For value-less flags that set a config key: the value set. */
  set?: boolean;
  /** Counter flag (-v -vv). */
  count?: boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Whether the command's config schema is the process config (takes -c). */
  config: boolean;
  examples?: string[];
}

export interface Parsed {
  /** Values of flags without a config path, by long name. */
  opts: Record<string, string | number | boolean>;
  config: Config;
  help: boolean;
}

export const CONFIG_FLAG: FlagSpec = { long: 'config', short: 'c', arg: 'FILE', help: 'YAML configuration file (flags override it)' };
export const HELP_FLAG: FlagSpec = { long: 'help', short: 'h', help: 'Show help for this command' };

// Flags mirroring the Rockfish probe's CLI (the seeds): same names, same config keys.
export const INPUT_FLAGS: FlagSpec[] = [
  { long: 'source', short: 'i', arg: 'SRC', path: 'input.source', help: 'Input capture file (pcap/pcapng) or glob, e.g. "/data/*.pcap"' },
  { long: 'filter', arg: 'EXPR', path: 'input.filter', help: 'BPF filter expression' },
  { long: 'snaplen', arg: 'BYTES', path: 'input.snaplen', help: 'Maximum capture bytes per packet' },
  { long: 'live', arg: 'TYPE', path: 'input.live_type', help: 'Capture live from the interface given by -i: pcap, afpacket' },
  { long: 'promisc-off', path: 'input.promisc_off', set: true, help: 'Disable promiscuous mode' },
  { long: 'watch', path: 'input.watch', set: true, help: 'Watch -i (a directory or glob) for rotated capture files; each is read once, when closed' },
  { long: 'watch-settle', arg: 'SECS', path: 'input.watch_settle_s', help: 'With --watch: seconds unchanged after which the newest file counts as closed' },
  { long: 'watch-state', arg: 'FILE', path: 'input.watch_state', help: 'Where --watch remembers the files already read (restarts go on from there)' },
];
export const AFPACKET_FLAGS: FlagSpec[] = [
  { long: 'afp-block-size', arg: 'BYTES', path: 'afpacket.block_size', help: 'Ring buffer block size' },
  { long: 'afp-block-count', arg: 'N', path: 'afpacket.block_count', help: 'Ring buffer block count' },
  { long: 'afp-fanout-group', arg: 'ID', path: 'afpacket.fanout_group', help: 'Fanout group ID (0 = disabled)' },
  { long: 'afp-fanout-mode', arg: 'MODE', path: 'afpacket.fanout_mode', help: 'Fanout mode: hash, lb, cpu, rollover, random' },
];
export const FLOW_FLAGS: FlagSpec[] = [
  { long: 'idle-timeout', arg: 'SECS', path: 'flow.idle_timeout', help: 'Idle timeout' },
  { long: 'active-timeout', arg: 'SECS', path: 'flow.active_timeout', help: 'Active timeout' },
  { long: 'max-flows', arg: 'COUNT', path: 'flow.max_flows', help: 'Maximum flow table size (0 = unlimited)' },
  { long: 'max-payload', arg: 'BYTES', path: 'flow.max_payload', help: 'Max payload bytes inspected per direction' },
  { long: 'status-interval', arg: 'SECS', path: 'flow.status_interval', help: 'Seconds between flow update events' },
  { long: 'no-frag', path: 'fragment.disabled', set: true, help: 'Disable fragment reassembly' },
  { long: 'max-frag-tables', arg: 'N', path: 'fragment.max_tables', help: 'Max fragment tables' },
  { long: 'frag-timeout', arg: 'SECS', path: 'fragment.timeout', help: 'Fragment timeout' },
  { long: 'ndpi', path: 'ndpi.enabled', set: true, help: 'Enable nDPI application labeling (ndpi_appid, ndpi_category, ndpi_risk_*)' },
  { long: 'ndpi-protocol-file', arg: 'FILE', path: 'ndpi.protocol_file', help: 'nDPI custom protocol definitions' },
  { long: 'ndpi-categories-file', arg: 'FILE', path: 'ndpi.categories_file', help: 'nDPI custom category definitions' },
];
export const OUTPUT_FLAGS: FlagSpec[] = [
  { long: 'parquet-dir', arg: 'DIR', path: 'output.parquet_dir', help: 'Output directory for Parquet files' },
  { long: 'parquet-batch-size', arg: 'N', path: 'output.parquet_batch_size', help: 'Flows per file' },
  { long: 'parquet-prefix', arg: 'PREFIX', path: 'output.parquet_file_prefix', help: 'Filename prefix' },
  { long: 'parquet-schema', arg: 'TYPE', path: 'output.parquet_schema', help: 'Schema tier: community, basic, professional, enterprise' },
  { long: 'parquet-datasets', arg: 'LIST', path: 'output.parquet_datasets', help: 'Datasets of the lake: flows,dns,tls,http,alerts (default all)' },
  { long: 'observation', arg: 'NAME', path: 'output.observation', help: 'Observation domain name' },
  { long: 'hive-boundary-flush', path: 'output.hive_boundary_flush', set: true, help: 'Flush at day boundaries' },
  { long: 'license', arg: 'FILE', path: 'license.path', help: 'License file: caps the tier, goes into every file\'s signed metadata (also DAMSELFLY_LICENSE_PATH)' },
  { long: 'geoip-country-db', arg: 'FILE', path: 'geoip.country_db', help: 'GeoLite2 Country database (.mmdb)' },
  { long: 'geoip-city-db', arg: 'FILE', path: 'geoip.city_db', help: 'GeoLite2 City database (.mmdb)' },
  { long: 'geoip-asn-db', arg: 'FILE', path: 'geoip.asn_db', help: 'GeoLite2 ASN database (.mmdb)' },
];
// The seed's s3: keys as flags (--s3-<key>), and the probe.
export const S3_FLAGS: FlagSpec[] = [
  { long: 's3-bucket', arg: 'NAME', path: 's3.bucket', help: 'Upload finished Parquet files to this S3 bucket (through a durable local spool)' },
  { long: 's3-prefix', arg: 'PREFIX', path: 's3.prefix', help: 'S3 key prefix' },
  { long: 's3-region', arg: 'REGION', path: 's3.region', help: 'S3 region' },
  { long: 's3-endpoint', arg: 'URL', path: 's3.endpoint', help: 'S3-compatible endpoint (MinIO, ...)' },
  { long: 's3-force-path-style', path: 's3.force_path_style', set: true, help: 'Path-style URLs (MinIO)' },
  { long: 's3-hive-partitioning', path: 's3.hive_partitioning', set: true, help: 'Keys with year=/month=/day=' },
  { long: 's3-delete-after-upload', path: 's3.delete_after_upload', set: true, help: 'Delete local files once uploaded' },
  { long: 'test-s3', help: 'Check the S3 settings (put, read and delete a probe object), print one line and exit' },
];
export const KAFKA_FLAGS: FlagSpec[] = [
  { long: 'kafka', arg: 'BROKERS', path: 'kafka.brokers', help: 'Publish/consume over Kafka (host:port[,host:port]) instead of in-process' },
  { long: 'topic-prefix', arg: 'PREFIX', path: 'transport.topic_prefix', help: 'Topic name prefix' },
  { long: 'group', arg: 'NAME', path: 'kafka.group', help: 'Kafka consumer group of this process' },
];
export const UNTIL_END_FLAG: FlagSpec = { long: 'until-end', path: 'pipeline.until_end', set: true, help: 'Exit once the producers of the input (on the Kafka control topic) have ended and it is drained' };
export const GRAPH_FLAG: FlagSpec = { long: 'graph', help: 'Print the pipeline this command would run (sources, topics, analyzers, sinks) and exit' };
export const ANALYZE_FLAGS: FlagSpec[] = [
  { long: 'analyzers', arg: 'DIR', path: 'analyzers.dir', help: 'Load user analyzers from DIR' },
  { long: 'no-builtin-analyzers', path: 'analyzers.builtins', set: false, help: 'Do not run the built-in analyzers' },
  { long: 'analyzer-config-dir', arg: 'DIR', path: 'analyzers.config_dir', help: 'Folder of <analyzer>.yaml configs (e.g. threat-feed.yaml)' },
];
export const ALERT_FLAGS: FlagSpec[] = [
  { long: 'alerts', arg: 'FILE', path: 'alerts.file', help: 'Append alerts to FILE (JSON lines)' },
  { long: 'alerts-stdout', path: 'alerts.stdout', set: true, help: 'Print alerts on stdout' },
  { long: 'alerts-webhook', arg: 'URL', path: 'alerts.webhook_url', help: 'POST alerts to URL' },
];
export const ANALYZER_FLAGS: FlagSpec[] = [...ANALYZE_FLAGS, ...ALERT_FLAGS];
export const LOG_FLAGS: FlagSpec[] = [
  { long: 'verbose', short: 'v', path: 'output.verbose', count: true, help: 'Increase verbosity (-vv for debug)' },
  { long: 'quiet', short: 'q', path: 'output.verbose', help: 'Quiet mode (warnings and errors only)' },
  { long: 'stats', path: 'output.stats', set: true, help: 'Print statistics' },
  { long: 'log-file', arg: 'PATH', path: 'output.log_file', help: 'Log file path' },
];

function findFlag(flags: FlagSpec[], name: string, short: boolean): FlagSpec | undefined {
  return flags.find((f) => (short ? f.short === name : f.long === name));
}

/** Parse argv for one command: YAML (-c) first, then flags over it. */
export function parseArgs(cmd: CommandSpec, schema: ConfigSchema, argv: string[]): Parsed {
  const flags = [...cmd.flags, HELP_FLAG, ...(cmd.config ? [CONFIG_FLAG] : [])];
  const given: { spec: FlagSpec; value: string | undefined; name: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let name = a;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const long = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (eq >= 0) inline = a.slice(eq + 1);
      spec = findFlag(flags, long, false);
      name = `--${long}`;
    } else if (a.startsWith('-') && a.length > 1) {
      const letters = a.slice(1);
      if (/^v+$/.test(letters)) {
        for (let k = 0; k < letters.length; k++) given.push({ spec: findFlag(flags, 'v', true)!, value: undefined, name: '-v' });
        if (findFlag(flags, 'v', true)) continue;
      }
      spec = findFlag(flags, letters[0]!, true);
      if (spec && letters.length > 1) inline = letters.slice(1);
      name = `-${letters[0]}`;
    } else {
      // `-i /data/*.pcap` unquoted: the shell hands us the files after the first as arguments.
      const afterInput = given.length > 0 && given[given.length - 1]!.spec.long === 'source';
      const hint = afterInput ? `; if your shell expanded a glob, quote it: -i '/data/*.pcap'` : '';
      throw new UserError(`unexpected argument '${a}' for 'damselfly ${cmd.name}' (see damselfly ${cmd.name} --help)${hint}`);
    }
    if (!spec) throw new UserError(`unknown flag ${name} for 'damselfly ${cmd.name}' (see damselfly ${cmd.name} --help)`);
    let value: string | undefined;
    if (spec.arg) {
      value = inline ?? argv[++i];
      if (value === undefined) throw new UserError(`flag ${name} needs a value (${spec.arg})`);
    } else if (inline !== undefined) {
      throw new UserError(`flag ${name} takes no value`);
    }
    // A value given twice would silently keep the last one.
    const twice = spec.arg ? given.find((g) => g.spec === spec) : undefined;
    if (twice) {
      const hint = spec.long === 'source' ? ` (for several captures give one quoted glob: -i '/data/*.pcap')` : '';
      throw new UserError(`flag ${name} given twice ('${twice.value}' and '${value}'): give it once${hint}`);
    }
    given.push({ spec, value, name });
  }

  const help = given.some((g) => g.spec === HELP_FLAG);
  const cfgFile = given.find((g) => g.spec === CONFIG_FLAG)?.value;
  const config = cfgFile ? loadConfigFile(schema, cfgFile) : defaults(schema);
  const opts: Parsed['opts'] = {};
  const problems: string[] = [];
  let verbosity: number | undefined;
  for (const g of given) {
    if (g.spec === HELP_FLAG || g.spec === CONFIG_FLAG) continue;
    if (g.spec.long === 'quiet') {
      verbosity = 0;
      continue;
    }
    if (g.spec.count) {
      verbosity = (verbosity ?? Number(config.output?.verbose ?? 1)) + 1;
      continue;
    }
    if (!g.spec.path) {
      opts[g.spec.long] = g.value ?? true;
      continue;
    }
    const [section, key] = g.spec.path.split('.') as [string, string];
    const ks = schema[section]?.[key];
    if (!ks) throw new Error(`internal: flag ${g.name} maps to unknown config key ${g.spec.path}`);
    const r = checkValue(`${g.name}`, ks, g.value ?? g.spec.set ?? true);
    if (r.problem) problems.push(r.problem);
    else config[section]![key] = r.value;
  }
  if (verbosity !== undefined && config.output) config.output.verbose = Math.min(3, verbosity);
  if (problems.length > 0) throw new UserError(`invalid value: ${problems.join('; ')}`);
  return { opts, config, help };
}

/** --help text; each flag that sets a config key shows the key and its default, from the schema. */
export function helpText(cmd: CommandSpec, schema?: ConfigSchema): string {
  const flags = [...cmd.flags, ...(cmd.config ? [CONFIG_FLAG] : []), HELP_FLAG];
  const rows = flags.map((f) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${f.long}${f.arg ? ` <${f.arg}>` : ''}`;
    const [section, key] = (f.path ?? '').split('.');
    const spec = f.path && schema ? schema[section!]?.[key!] : undefined;
    const def = spec && spec.default !== undefined && spec.default !== '' && f.arg ? `, default ${String(spec.default)}` : '';
    return `  ${left.padEnd(34)} ${f.help}${f.path ? `  [${f.path}${def}]` : ''}`;
  });
  const ex = cmd.examples?.length ? `\n\nExamples:\n${cmd.examples.map((e) => `  ${e}`).join('\n')}` : '';
  return `${cmd.summary}\n\nUsage: ${cmd.usage}\n\nOptions:\n${rows.join('\n')}${ex}\n`;
}
