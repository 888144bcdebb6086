// Shape of model.json: a compact forest plus the lexicon tables its features need and the alert
// threshold chosen at training time. Types only (bundled into the analyzer at no cost).
import type { CompactForest } from '../../sdk/forest.js';
import type { LexiconTables, PackedLexicon } from './features.js';

export interface DgaModel extends CompactForest {
  /** Packed (what training writes); older files hold object tables. */
  lexicon: PackedLexicon | LexiconTables;
  /** Score at or above which the trained operating point says "DGA". */
  threshold: number;
}
