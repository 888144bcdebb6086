// `damselfly analyzer check FILE|DIR`: type-checks an analyzer against the SDK's types before it
// runs — a misspelled event field (`e.qname` for `e.query`), a hook with the wrong signature, a
// config value of the wrong type — with TypeScript's own checker (strict), the way an author's
// editor would. `damselfly/sdk` resolves to the SDK in this package. Only the analyzer's own files
// are reported.
import path from 'node:path';
import { SDK_DIR } from './compile.js';

export interface TypeProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Type problems of the analyzer `script` (its imports included), in its own files (`roots`). */
export async function typecheckAnalyzer(script: string, roots: readonly string[]): Promise<TypeProblem[]> {
  const ts = (await import('typescript')).default;
  const options: import('typescript').CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    paths: {
      'damselfly/sdk': [path.join(SDK_DIR, 'index.ts')],
      'damselfly/analyzers/sdk': [path.join(SDK_DIR, 'index.ts')],
    },
  };
  const program = ts.createProgram([path.resolve(script)], options);
  const out: TypeProblem[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (!d.file || d.start === undefined) {
      out.push({ file: script, line: 0, column: 0, message });
      continue;
    }
    const file = path.resolve(d.file.fileName);
    if (!roots.some((r) => within(r, file) || r === file)) continue;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    out.push({ file, line: line + 1, column: character + 1, message });
  }
  return out;
}
