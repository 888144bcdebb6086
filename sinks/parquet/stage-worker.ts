// Worker-thread host of the Parquet sink's Stager: requests come in order over the port, each
// answered with its id (or the error message), one at a time.
import { parentPort } from 'node:worker_threads';
import { Stager } from './stage.js';
import type { ColumnBatch } from './columns.js';

export type StageRequest =
  | { id: number; op: 'open' }
  | { id: number; op: 'stage'; day: number; batch: ColumnBatch }
  | { id: number; op: 'flush'; day: number; final: string; tmp: string; kv: string }
  | { id: number; op: 'close' };

export type StageReply = { id: number; ok: true } | { id: number; ok: false; message: string };

const stager = new Stager();
let chain: Promise<unknown> = Promise.resolve();

parentPort?.on('message', (req: StageRequest) => {
  chain = chain.then(async () => {
    try {
      switch (req.op) {
        case 'open':
          await stager.open();
          break;
        case 'stage':
          await stager.stage(req.day, req.batch);
          break;
        case 'flush':
          await stager.flush(req.day, req.final, req.tmp, req.kv);
          break;
        case 'close':
          stager.close();
          break;
      }
      parentPort!.postMessage({ id: req.id, ok: true } satisfies StageReply);
    } catch (e) {
      parentPort!.postMessage({ id: req.id, ok: false, message: e instanceof Error ? e.message : String(e) } satisfies StageReply);
    }
  });
});
