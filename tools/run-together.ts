// Runs npm scripts at the same time and fails when any of them fails: `npm test` type-checks and lints this way, as
// each is one busy thread and the machine has two cores. Each script's output is held and printed whole once it ends,
// so the two never interleave.
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  process.stderr.write('usage: node tools/run-together.ts <npm script>...\n');
  process.exit(2);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = await Promise.all(
  scripts.map(
    (script) =>
      new Promise<{ script: string; code: number }>((resolve) => {
        const began = Date.now();
        const chunks: Buffer[] = [];
        const child = spawn(npm, ['run', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
        const done = (code: number): void => {
          const seconds = ((Date.now() - began) / 1000).toFixed(1);
          process.stdout.write(Buffer.concat(chunks));
          process.stdout.write(`\n${script}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s\n\n`);
          resolve({ script, code });
        };
        child.on('error', (error) => {
          chunks.push(Buffer.from(`${String(error)}\n`));
          done(1);
        });
        child.on('close', (code, signal) => done(code ?? (signal === null ? 1 : 128)));
      }),
  ),
);
const failed = results.filter((r) => r.code !== 0).map((r) => r.script);
if (failed.length > 0) {
  process.stderr.write(`failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
