#!/usr/bin/env node
// Assembles src/logs/plain-records.wat into src/logs/plain-records.wasm (committed, so a
// build needs no assembler). `--check` exits 1 when the committed .wasm is not what the
// .wat assembles to. Uses wabt's wat2wasm (devDependency).
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const source = new URL('../src/logs/plain-records.wat', import.meta.url);
const target = new URL('../src/logs/plain-records.wasm', import.meta.url);
const wabt = await wabtInit();
const module = wabt.parseWat('plain-records.wat', readFileSync(source, 'utf8'), { bulk_memory: true });
const { buffer } = module.toBinary({});
module.destroy();
if (process.argv.includes('--check')) {
  const committed = readFileSync(target);
  if (!committed.equals(Buffer.from(buffer))) {
    console.error('src/logs/plain-records.wasm is out of date: run `npm run build:wasm` and commit it');
    process.exit(1);
  }
} else {
  writeFileSync(target, buffer);
  console.log(`wrote src/logs/plain-records.wasm (${buffer.length} bytes)`);
}
