/** The HMAC key: key generate, key rotate. */
import { type Cli, withEngine } from '../shared.js';

const formatting = () => import('../format/keys.js');

export function registerKeyCommands({ program, io, setExit }: Cli): void {
  const key = program.command('key').description('the HMAC key of the suppression list and the audit log');
  key
    .command('generate')
    .description('write a new random key to a file readable by its owner only (mode 0600)')
    .requiredOption('--out <file>', 'the key file (never overwritten)')
    .action(async (opts: { out: string }) => {
      const { printKeyGenerated } = await formatting();
      const { generateKey } = await import('../../app/keys.js');
      const key = await withEngine(program, async (engine, ctx) =>
        generateKey(engine, { out: opts.out }, ctx),
      );
      printKeyGenerated(io, key);
      setExit(0);
    });
  key
    .command('rotate')
    .description('seal the audit log with a new key, linked to the old one by an entry the old key signs')
    .requiredOption('--to <ref>', 'the new key: file:PATH or env:VARIABLE')
    .action(async (opts: { to: string }) => {
      const { printKeyRotated } = await formatting();
      const { rotateKey } = await import('../../app/keys.js');
      const r = await withEngine(program, (engine, ctx) => rotateKey(engine, { to: opts.to }, ctx));
      printKeyRotated(io, r);
      setExit(0);
    });
}
