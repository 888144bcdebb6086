// Runs capture files through a FileSource and returns every event it emits, in order.
import { FileSource } from '../../sensor/src/file-source.js';
import type { SensorEvent } from '../../streams/schema.js';
import { options } from './helpers.js';

export async function collect(pcap: string, over: Parameters<typeof options>[0] = {}): Promise<SensorEvent[]> {
  const events: SensorEvent[] = [];
  const src = new FileSource(options(over), [pcap], async (b) => {
    events.push(...(b.rows() as SensorEvent[]));
  });
  await src.run();
  return events;
}
