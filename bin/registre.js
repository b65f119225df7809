#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// Output piped into a command that stops reading (`| head`): stop quietly, as other tools do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });

const code = await main(process.argv.slice(2));
process.exitCode = code;
// The command is done: a handle a library leaves open (a pool's idle timer, a socket) must not
// keep a scheduled sweep's process alive. Exit once the output is written, if nothing else does.
setTimeout(() => process.exit(code), 2000).unref();
