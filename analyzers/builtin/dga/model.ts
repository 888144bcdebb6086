// Shape of model.json: a compact forest plus the lexicon tables its features need and the alert
// threshold chosen at training time. Types only (bundled into the analyzer at no cost).
import type { CompactForest } from '../../sdk/forest.js';
import type { LexiconTables } from './features.js';

export interface DgaModel extends CompactForest {
  lexicon: LexiconTables;
  /** Score at or above which the trained operating point says "DGA". */
  threshold: number;
}
