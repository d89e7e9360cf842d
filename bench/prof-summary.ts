// Summarizes a V8 .cpuprofile (from BENCH_PROF=server|client, see one.ts):
// top functions by self time, with the share that is tsgrpc code (src/).
//   node dist/bench/prof-summary.js <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function summarize(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: Node) => {
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  // Self time goes to the function on top of the stack; inclusive time to
  // every distinct tsgrpc function on it.
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const key = keyOf(byId.get(id)!);
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const k = keyOf(byId.get(n)!);
      if (k.includes('dist/src/') && !seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + dt);
      }
    }
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]);
  const share = (pred: (k: string) => boolean) =>
    ((100 * rows.filter(([k]) => pred(k)).reduce((s, [, v]) => s + v, 0)) / total).toFixed(1);
  const lines = [
    `${file}: ${(total / 1e6).toFixed(2)} s sampled; self time in tsgrpc (dist/src) ${share((k) => k.includes('dist/src/'))}%, ` +
      `idle ${share((k) => k.startsWith('(idle)'))}%, GC ${share((k) => k.startsWith('(garbage collector)'))}%`,
  ];
  const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
  lines.push('self time:');
  for (const [k, v] of rows.slice(0, top)) lines.push(`${pct(v)}  ${k}`);
  lines.push('inclusive time of tsgrpc functions:');
  for (const [k, v] of [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`${pct(v)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('prof-summary.js') && process.argv[2]) {
  console.log(summarize(process.argv[2], Number(process.argv[3] ?? 25)));
}
