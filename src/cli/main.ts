/**
 * The `registre` command. Thin: builds the program from the capability modules (src/cli/commands),
 * runs it, and is the only place that turns errors into exit codes (0 ok, 1 failure, 2 usage).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, type Option } from 'commander';
import { fieldsAs, RegistreError } from '../core/errors.js';
import { RegisterError } from '../core/issues.js';
import { safeMessage } from '../core/safe-message.js';
import { registerArchiveCommand } from './commands/archive.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBreachCommands } from './commands/breaches.js';
import { registerCheckCommand } from './commands/check.js';
import { registerConsentCommands } from './commands/consent.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerHoldCommands } from './commands/holds.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerPlanCommands } from './commands/plan.js';
import { registerRegisterCommands } from './commands/register.js';
import { registerRequestCommands } from './commands/requests.js';
import { registerSchemaCommand } from './commands/schema.js';
import { registerServeCommands } from './commands/serve.js';
import { registerSuppressionCommands } from './commands/suppression.js';
import { registerSweepCommand } from './commands/sweep.js';
import { exitCodeOf } from './exit-codes.js';
import { printIssues } from './format/issues.js';
import { type Cli, EXAMPLES, flagOf, leafCommands, type Output } from './shared.js';

// Each command loads what it needs when it runs: `--help` and light commands do not pay for
// exceljs, faker, the database drivers or Kysely (issue 9: start-up).

export { EXAMPLES, leafCommands } from './shared.js';

// The package's own package.json, two folders up from src/cli/ and dist/cli/ alike (one small read).
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);
const VERSION = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;

const stdio: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function buildProgram(io: Output, setExit: (code: number) => void): Command {
  const program = new Command('registre')
    .description(
      'Privacy operations as code: validate a GDPR register, generate its documents, enforce its retention.',
    )
    .version(VERSION)
    // Every command's help shows the global options (--config) and marks required options.
    .configureHelp({
      showGlobalOptions: true,
      optionDescription(this: Help, option: Option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .option('--config <file>', 'configuration file (default ./registre.yaml)')
    .option('--verbose', 'print stack traces of unexpected errors')
    .showHelpAfterError('(run registre --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  // Before a command that reads the engine's own stores: a state or archive store others can
  // read is said on standard error (the command goes on; issue 18 item 21).
  const withoutStores = new Set(['validate', 'docs', 'import-notice', 'demo', 'schema', 'key generate']);
  program.hook('preAction', async (_program, action) => {
    const path =
      action.parent && action.parent !== program ? `${action.parent.name()} ${action.name()}` : action.name();
    if (withoutStores.has(path)) return;
    const [{ runStoreWarnings }, { createEngine }] = await Promise.all([
      import('../app/stores.js'),
      import('../app/engine.js'),
    ]);
    // An engine that opens nothing: the warnings read the configuration and the files' modes.
    const warnings = await runStoreWarnings(createEngine({ config: program.opts().config })).catch(() => []);
    for (const w of warnings) io.err(`warning: ${w}\n`);
  });

  // In the order of `registre --help`.
  const cli: Cli = { program, io, setExit };
  for (const register of [
    registerRegisterCommands,
    registerCheckCommand,
    registerPlanCommands,
    registerSweepCommand,
    registerHoldCommands,
    registerRequestCommands,
    registerSuppressionCommands,
    registerConsentCommands,
    registerBreachCommands,
    registerAuditCommands,
    registerKeyCommands,
    registerArchiveCommand,
    registerDemoCommand,
    registerServeCommands,
    registerSchemaCommand,
  ])
    register(cli);

  for (const { path, command } of leafCommands(program)) {
    const example = EXAMPLES[path];
    if (example) command.addHelpText('after', `\nExample:\n  ${example}\n`);
  }
  return program;
}

export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    if (error instanceof RegisterError) {
      printIssues(io, error.issues);
      io.err('registre: the register or the data map has errors; run registre validate or registre check\n');
      return 1;
    }
    if (error instanceof RegistreError) {
      io.err(`registre: ${fieldsAs(error.message, flagOf)}\n`);
      return exitCodeOf(error);
    }
    const verbose = argv.includes('--verbose');
    // A database's message can quote a value of a row (an address): its code and a fixed text.
    io.err(
      `registre: unexpected error: ${safeMessage(error)}${verbose ? '' : ' (run with --verbose for details)'}\n`,
    );
    // The stack's frames, not its first lines: they repeat the message.
    if (verbose)
      io.err(
        `${((error as Error).stack ?? '')
          .split('\n')
          .filter((line) => /^\s+at /.test(line))
          .join('\n')}\n`,
      );
    return 1;
  }
}
