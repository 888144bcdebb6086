// The `alerts:` config section (the alert sink's outputs and suppression window), its defaults and
// the typed resolver to AlertSinkOptions.
import { num, str, type Config, type SectionSpec } from '../../streams/config.js';
import type { AlertSinkOptions } from './index.js';

export const ALERTS_CONFIG_SECTION: SectionSpec = {
  file: { type: 'string', description: 'Append alerts to this JSONL file', example: 'alerts.jsonl' },
  stdout: { type: 'bool', default: false, description: 'Print alerts on stdout' },
  webhook_url: { type: 'string', description: 'POST alerts to this HTTP(S) URL (retried with backoff)', example: 'https://soc.example.com/hooks/damselfly' },
  suppress_seconds: { type: 'int', default: 60, min: 0, description: 'Suppress repeats of an analyzer+key within this window (event time)' },
};

export function alertSinkOptionsFromConfig(c: Config): AlertSinkOptions {
  const file = str(c, 'alerts', 'file');
  const webhook = str(c, 'alerts', 'webhook_url');
  return {
    ...(file ? { file } : {}),
    stdout: c.alerts?.stdout === true,
    ...(webhook ? { webhook: { url: webhook } } : {}),
    suppressMs: num(c, 'alerts', 'suppress_seconds') * 1000,
  };
}

/** Where alerts go, in words (for the pipeline's description). */
export function describeAlertOutputs(o: AlertSinkOptions): string {
  const outs = [o.file, o.stdout ? 'stdout' : undefined, o.webhook?.url].filter((x): x is string => x !== undefined);
  return outs.length > 0 ? outs.join(', ') : 'nowhere (no alerts.file, alerts.stdout or alerts.webhook_url)';
}
