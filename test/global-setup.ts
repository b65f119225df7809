import { execFileSync } from 'node:child_process';

/** CLI tests run the real `registre` command: build it first from the current sources. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
