/**
 * `aico-data reembed`: moves the folder's semantic memory to another embedder, by default the
 * local all-MiniLM-L6-v2 model (`--hashing`: back to the lexical one), collection by
 * collection, with a progress bar. Resumable: stopped (Ctrl-C, a crash, a full disk), it goes on
 * from where it stopped when run again; the old vectors stay in use until a collection is done.
 */
import type { Command } from 'commander';
import { folderHashingEmbedder, LazyMiniLmEmbedder } from '../../stores/vectors/default-embedder.js';
import { findMiniLmDir } from '../../stores/vectors/minilm-embedder.js';
import { describeProvenance } from '../../stores/vectors/embedder.js';
import { AicoDataError } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { out, toJson } from '../output.js';
import { createProgress, type Progress } from '../progress.js';

/** Adds the `reembed` subcommand to `program`. */
export function registerReembed(program: Command): void {
  program
    .command('reembed')
    .description('re-embed semantic memory with the local model all-MiniLM-L6-v2 (or --hashing), resumably, with progress')
    .option('--hashing', 'move to the lexical hashing embedder instead of the model')
    .option('--model <dir>', 'the model folder (default: AICO_DATA_MINILM_DIR, the aico-data-model-minilm package, or ~/.cache/aico-data/models)')
    .option('--json', 'print the result as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean; hashing?: boolean; model?: string }>();
      await withDataLayer(
        opts,
        async (data) => {
          const vectors = data.vectors;
          if (!vectors) throw new AicoDataError('UNAVAILABLE', 'this open has no vector store');
          const target = opts.hashing
            ? folderHashingEmbedder(data.crypto)
            : new LazyMiniLmEmbedder(opts.model ? { dir: opts.model, source: 'env', why: '--model' } : findMiniLmDir());
          // Load (and verify) the model before touching any collection: a missing model fails here.
          if (target instanceof LazyMiniLmEmbedder) await target.load();
          let bar: Progress | undefined;
          let current = '';
          const results = await vectors.reembed(target, {
            onProgress: ({ collection, done, total }) => {
              if (collection !== current) {
                bar?.done();
                current = collection;
                bar = createProgress({ label: `reembed ${collection}`, total, unit: 'records' });
              }
              bar!.update(done);
            },
          });
          bar?.done();
          if (opts.json) return out(toJson(results));
          for (const r of results) {
            if (!r.changed) out(`${r.collection}: already ${describeProvenance(r.to)}`);
            else out(`${r.collection}: ${describeProvenance(r.from)} -> ${describeProvenance(r.to)}: ${r.embedded.toLocaleString('en-US')} records embedded${r.resumed ? ` (resumed: ${r.alreadyDone.toLocaleString('en-US')} done by an earlier run)` : ''}`);
          }
        },
        { analytics: false },
      );
    });
}
