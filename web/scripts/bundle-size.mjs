// Prints the size of every built file, raw and gzipped, and what a first visit loads: the entry
// chunk, the chunks it imports statically and its CSS. Target: first load under 250 KiB gzipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));
const TARGET_KIB = 250;

const sizes = new Map();
const size = (file) => {
  if (!sizes.has(file)) {
    const raw = readFileSync(join(dist, file));
    sizes.set(file, { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length });
  }
  return sizes.get(file);
};
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

const first = new Set();
const visit = (id) => {
  const chunk = manifest[id];
  if (!chunk || first.has(chunk.file)) return;
  first.add(chunk.file);
  for (const css of chunk.css ?? []) first.add(css);
  for (const dep of chunk.imports ?? []) visit(dep);
};
for (const [id, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(id);

const files = [...new Set(Object.values(manifest).flatMap((c) => [c.file, ...(c.css ?? [])]))].sort();
console.log('\nweb/dist bundle sizes (raw / gzip):');
for (const file of files) {
  const s = size(file);
  console.log(`  ${first.has(file) ? '*' : ' '} ${file.padEnd(48)} ${kib(s.raw).padStart(11)} ${kib(s.gzip).padStart(11)}`);
}
const total = [...first].reduce((sum, f) => sum + size(f).gzip, 0);
console.log(`first load (*): ${kib(total)} gzipped (target < ${TARGET_KIB} KiB)${total > TARGET_KIB * 1024 ? ' OVER TARGET' : ''}`);
