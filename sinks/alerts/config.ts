// The `alerts:` config section (the alert sink's outputs and suppression window), its defaults and
// the typed resolver to AlertSinkOptions.
import { join } from 'node:path';
import { num, str, type Config, type SectionSpec } from '../../streams/config.js';
import { UserError } from '../../streams/errors.js';
import { redactUrl } from './outputs.js';
import type { AlertSinkOptions } from './index.js';

export const ALERTS_CONFIG_SECTION: SectionSpec = {
  file: { type: 'string', description: 'Append alerts to this JSONL file', example: 'alerts.jsonl' },
  stdout: { type: 'bool', default: false, description: 'Print alerts on stdout' },
  webhook_url: { type: 'string', description: 'POST alerts to this HTTP(S) URL (retried with backoff)', example: 'https://soc.example.com/hooks/damselfly' },
  webhook_attempts: { type: 'int', default: 5, min: 1, description: 'Attempts per batch of alerts (backoff 200 ms doubling to 10 s); alerts still undelivered are counted and the run exits 1' },
  suppress_seconds: { type: 'int', default: 60, min: 0, description: 'Suppress repeats of an analyzer+key within this window (event time)' },
};

/** The file alerts go to when no output is configured: beside the Parquet (output.parquet_dir). */
export const DEFAULT_ALERTS_FILE = 'alerts.jsonl';

/**
 * The sink's options from a validated config. Alerts are never dropped silently: with no output
 * configured they go to DEFAULT_ALERTS_FILE in output.parquet_dir (`defaulted` says so), and with
 * neither an output nor a Parquet directory this is an error. A webhook URL that is not http(s)
 * is an error here, before anything starts.
 */
export function alertSinkOptionsFromConfig(c: Config): AlertSinkOptions & { defaulted?: boolean } {
  let file = str(c, 'alerts', 'file');
  const webhook = str(c, 'alerts', 'webhook_url');
  const stdout = c.alerts?.stdout === true;
  if (webhook !== undefined) checkWebhookUrl(webhook);
  let defaulted = false;
  if (!file && !stdout && !webhook) {
    const dir = str(c, 'output', 'parquet_dir');
    if (!dir) throw new UserError('alerts have nowhere to go: give --alerts FILE, --alerts-stdout or --alerts-webhook URL (or alerts.file / alerts.stdout / alerts.webhook_url in the config)');
    file = join(dir, DEFAULT_ALERTS_FILE);
    defaulted = true;
  }
  return {
    ...(file ? { file } : {}),
    stdout,
    ...(webhook ? { webhook: { url: webhook, maxAttempts: num(c, 'alerts', 'webhook_attempts') } } : {}),
    suppressMs: num(c, 'alerts', 'suppress_seconds') * 1000,
    ...(defaulted ? { defaulted } : {}),
  };
}

function checkWebhookUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`alerts.webhook_url: '${url}' is not a URL (expected http://host[:port]/path or https://…)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`alerts.webhook_url: '${url}' is not an http(s) URL`);
}

/** Where alerts go, in words (for the pipeline's description). */
export function describeAlertOutputs(o: AlertSinkOptions & { defaulted?: boolean }): string {
  const outs = [o.file ? `${o.file}${o.defaulted ? ' (the default: no alert output configured)' : ''}` : undefined, o.stdout ? 'stdout' : undefined, o.webhook ? redactUrl(o.webhook.url) : undefined].filter((x): x is string => x !== undefined);
  return outs.join(', ');
}
