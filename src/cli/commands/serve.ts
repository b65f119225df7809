/** The service: serve, and its API tokens (token create, list, revoke). */
import type { TokenRow } from '../../app/tokens.js';
import { type Cli, jsonText, withEngine } from '../shared.js';

const SCOPES_HELP =
  'read (plans, explanations, requests), operate (sweeps, holds, requests, consents) or admin (tokens, accept-head)';

export function registerServeCommands({ program, io, setExit }: Cli): void {
  program
    .command('serve')
    .description(
      'run the service: the HTTP API, the request page and the scheduler (with no registre.yaml here: the demo shop, made on first start)',
    )
    .option('--port <n>', 'the port to listen on', '8080')
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--no-schedule', 'do not run the scheduled sweeps, checks and reminders in this process')
    .action(async (opts: { port: string; host: string; schedule: boolean }) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65_535) {
        io.err(`registre: --port must be a port number from 0 to 65535 (got "${opts.port}")\n`);
        setExit(2);
        return;
      }
      const { startService } = await import('../../service/server.js');
      const service = await startService({
        config: program.opts().config,
        host: opts.host,
        port: Number(opts.port),
        schedule: opts.schedule,
        log: (entry) =>
          process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`),
      });
      // One write: a script reading stderr finds the address and the token together.
      io.err(
        [
          `registre serves ${service.url} (the API at ${service.url}/api, its document at ${service.url}/docs, the request page at ${service.url}/request)`,
          `  the DPO's console: ${service.url}/console (sign in with a token)`,
          ...(service.demo ? ['  on the demo shop generated in ./demo-shop (registre.yaml there)'] : []),
          service.adminToken
            ? `  admin token (shown once, stored hashed): ${service.adminToken}\n  try: curl -H "Authorization: Bearer ${service.adminToken}" ${service.url}/api/plan`
            : '  its tokens were made before: `registre token create NAME --scope read|operate|admin` makes another',
          '',
        ].join('\n'),
      );
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.err('registre: stopping (the batch under way ends first)\n');
          void service.stop().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      setExit(0);
    });

  const token = program
    .command('token')
    .description("the service's API tokens (stored hashed; the secret is shown once)");
  token
    .command('create')
    .description('create a token; its secret is printed once')
    .argument('<name>', 'its name: the actor the audit log names for its calls')
    .requiredOption('--scope <scope>', SCOPES_HELP)
    .option('--controller <id>', "a distributor's id: the token reaches only what is processed for it")
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { scope: string; controller?: string; json?: boolean }) => {
      const { createToken } = await import('../../app/tokens.js');
      const made = await withEngine(program, (engine, ctx) =>
        createToken(
          engine,
          { name, scope: opts.scope as 'read', ...(opts.controller ? { controller: opts.controller } : {}) },
          ctx,
        ),
      );
      io.out(
        opts.json
          ? jsonText(made)
          : `token ${made.name} (${made.scope}${made.controllerId ? `, controller ${made.controllerId}` : ''}):\n${made.token}\nKeep it now: only its hash is stored.\n`,
      );
      setExit(0);
    });
  token
    .command('list')
    .description('the tokens, live and revoked (never a secret)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listTokens } = await import('../../app/tokens.js');
      const rows = await withEngine(program, (engine, ctx) => listTokens(engine, {}, ctx));
      io.out(opts.json ? jsonText(rows) : formatTokens(rows));
      setExit(0);
    });
  token
    .command('revoke')
    .description('revoke a token: its next call is refused')
    .argument('<name>', "the token's name")
    .action(async (name: string) => {
      const { revokeToken } = await import('../../app/tokens.js');
      const row = await withEngine(program, (engine, ctx) => revokeToken(engine, { name }, ctx));
      io.out(`token ${row.name} revoked\n`);
      setExit(0);
    });
}

function formatTokens(rows: readonly TokenRow[]): string {
  if (rows.length === 0) return 'no token (registre serve makes the first admin token)\n';
  return `${rows
    .map(
      (r) =>
        `${r.name.padEnd(20)} ${r.scope.padEnd(8)} ${(r.controllerId ? `controller ${r.controllerId}` : '').padEnd(16)} created ${r.createdAt.slice(0, 10)} by ${r.createdBy}${r.revokedAt ? `, revoked ${r.revokedAt.slice(0, 10)}` : ''}`,
    )
    .join('\n')}\n`;
}
