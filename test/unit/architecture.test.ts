import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

/**
 * The layering rules of docs/architecture.md, checked on the sources: no import cycles among
 * src/ and adapters/ (type-only imports count: they tie modules together just the same), and the
 * domain folders never import the flow engine (they offer hooks on the context instead).
 */

const root = path.resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts)$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** Each file → the files of the set it imports (static, type-only, re-exports and dynamic imports). */
function importGraph(files: string[]): Map<string, Set<string>> {
  const known = new Set(files);
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const deps = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), ref.fileName);
      const target = [base, `${base}.ts`, path.join(base, 'index.ts')].find((c) => known.has(c));
      if (target) deps.add(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The strongly connected components with more than one file (or a file importing itself). */
function importCycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');
const files = [...sourceFiles(path.join(root, 'src')), ...sourceFiles(path.join(root, 'adapters'))];
const graph = importGraph(files);

describe('architecture', () => {
  it('reads the whole source tree', () => {
    expect(files.map(rel)).toEqual(expect.arrayContaining(['src/service.ts', 'src/context.ts', 'adapters/index.ts', 'src/flows/runner.ts']));
    // The graph sees type-only imports: the context's hook types are edges.
    expect([...graph.get(path.join(root, 'src/context.ts'))!].map(rel)).toContain('src/coupons/lifecycle.ts');
  });

  it('has no import cycles among src/ and adapters/ (type-only imports included)', () => {
    expect(importCycles(graph).map((c) => c.map(rel).join(' <-> '))).toEqual([]);
  });

  it('keeps the domain folders free of the layers above them (flows, broadcasts, audiences, webhooks, routes, pages)', () => {
    const offending: string[] = [];
    for (const [file, deps] of graph) {
      if (!/^src\/(coupons|contacts|delivery)\//.test(rel(file))) continue;
      for (const d of deps) {
        if (/^src\/(flows|broadcasts|audiences|webhooks|http|pages)\//.test(rel(d))) offending.push(`${rel(file)} imports ${rel(d)}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('keeps SQL out of routes and pages: they call the module that owns the table', () => {
    const offending = files.map(rel).filter((f) => /^src\/(http|pages)\//.test(f))
      .filter((f) => /\bsql`|\bquery\(|\.execute\(/.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(offending).toEqual([]);
  });

  it('finds a cycle when there is one, type-only or not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-cycle-'));
    try {
      const a = path.join(dir, 'a.ts');
      const b = path.join(dir, 'b.ts');
      const c = path.join(dir, 'c.ts');
      fs.writeFileSync(a, "import type { B } from './b.ts';\nexport type A = B;\n");
      fs.writeFileSync(b, "export { c } from './c.ts';\nexport type B = string;\n");
      fs.writeFileSync(c, "export const c = async () => (await import('./a.ts')) as unknown;\n");
      const cycles = importCycles(importGraph([a, b, c]));
      expect(cycles).toEqual([[a, b, c]]);
      fs.writeFileSync(c, 'export const c = 1;\n');
      expect(importCycles(importGraph([a, b, c]))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
