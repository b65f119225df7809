/**
 * The `registre` command. Thin: parses arguments, composes core and adapters, prints, and is the
 * only place that turns errors into exit codes (0 ok, 1 failure, 2 usage).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DOCUMENT_KINDS, type DocumentKind, writeDocuments } from '../adapters/files/documents.js';
import { loadRegister } from '../adapters/files/register-files.js';
import { RegistreError } from '../core/errors.js';
import { importNotice } from '../core/import-notice.js';
import { formatIssue, type Issue } from '../core/issues.js';
import { registerJsonSchema } from '../core/register-schema.js';
import type { Language } from '../core/text.js';

export const BUNDLED_REGISTER = fileURLToPath(new URL('../../registers/negomarkets/', import.meta.url));
const VERSION = '0.1.0';

/** The register to use when none is named: the configuration's, else the bundled NEGOMARKETS one. */
export function defaultRegisterPath(cwd: string = process.cwd(), configFile?: string): string {
  const config = resolve(cwd, configFile ?? 'registre.yaml');
  if (!existsSync(config)) {
    if (configFile) throw new RegistreError('E_CONFIG', `no configuration file at ${config}`);
    return BUNDLED_REGISTER;
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(config, 'utf8'));
  } catch (cause) {
    throw new RegistreError(
      'E_CONFIG',
      `${config}: not valid YAML (${(cause as Error).message.split('\n')[0]})`,
      { cause },
    );
  }
  const register = (parsed as { register?: unknown } | null)?.register;
  if (register === undefined) return BUNDLED_REGISTER;
  if (typeof register !== 'string')
    throw new RegistreError('E_CONFIG', `${config}: "register" must be a path`);
  return resolve(dirname(config), register);
}

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function summary(issues: readonly Issue[]): string {
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

function printIssues(io: Output, issues: readonly Issue[]): void {
  for (const issue of issues) io.out(`${formatIssue(issue)}\n`);
}

function buildProgram(io: Output, setExit: (code: number) => void): Command {
  const program = new Command('registre')
    .description(
      'Privacy operations as code: validate a GDPR register, generate its documents, enforce its retention.',
    )
    .version(VERSION)
    .option('--config <file>', 'configuration file (default ./registre.yaml)')
    .option('--verbose', 'print stack traces of unexpected errors')
    .showHelpAfterError('(run registre --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const registerPath = (given: string | undefined) =>
    given ? resolve(given) : defaultRegisterPath(process.cwd(), program.opts().config);

  program
    .command('validate')
    .description('check a register (a YAML file or a folder of them): errors, and warnings on doctrine')
    .argument('[path]', 'register file or folder (default: the configured register, else the bundled one)')
    .option('--strict', 'fail on warnings too')
    .option('--json', 'print the issues as JSON')
    .action((path: string | undefined, opts: { strict?: boolean; json?: boolean }) => {
      const target = registerPath(path);
      const { issues } = loadRegister(target);
      const errors = issues.filter((i) => i.severity === 'error').length;
      const failed = errors > 0 || (opts.strict === true && issues.length > 0);
      if (opts.json) {
        io.out(
          `${JSON.stringify({ register: target, valid: errors === 0, errors, warnings: issues.length - errors, issues }, null, 2)}\n`,
        );
      } else {
        printIssues(io, issues);
        io.err(`${path ?? target}: ${summary(issues)}${failed ? '' : ' — valid'}\n`);
      }
      setExit(failed ? 1 : 0);
    });

  program
    .command('docs')
    .description('generate the privacy notice (fr, en), the art. 30 records and the DPV export')
    .argument('[path]', 'register file or folder (default: the configured register, else the bundled one)')
    .requiredOption('--out <dir>', 'folder to write the documents to')
    .addOption(new Option('--only <kind>', 'one document kind').choices([...DOCUMENT_KINDS]))
    .addOption(new Option('--lang <lang>', 'one language').choices(['fr', 'en']))
    .action(async (path: string | undefined, opts: { out: string; only?: DocumentKind; lang?: Language }) => {
      const target = registerPath(path);
      const { register, issues } = loadRegister(target);
      const errors = issues.filter((i) => i.severity === 'error');
      if (!register || errors.length > 0) {
        printIssues(io, errors);
        io.err(`${path ?? target}: ${summary(issues)}; no document written\n`);
        return setExit(1);
      }
      const written = await writeDocuments(register, resolve(opts.out), {
        ...(opts.only ? { only: opts.only } : {}),
        ...(opts.lang ? { languages: [opts.lang] } : {}),
      });
      for (const file of written) io.out(`${file}\n`);
      io.err(`${written.length} documents written to ${opts.out} (${summary(issues)} in the register)\n`);
      setExit(0);
    });

  program
    .command('import-notice')
    .description('turn a privacy-policy table (tab-separated text, French or English) into a draft register')
    .argument('<file>', 'the privacy-policy table')
    .option('--out <file>', 'write the draft register here instead of standard output')
    .action((file: string, opts: { out?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (cause) {
        throw new RegistreError(
          'E_NOT_FOUND',
          `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
          { cause },
        );
      }
      const draft = importNotice(text);
      const yaml = `# Draft register imported from ${file} by registre import-notice.\n# Review every TODO, then run: registre validate ${opts.out ?? 'this-file.yaml'}\n${stringifyYaml(draft, { lineWidth: 0 })}`;
      if (opts.out) {
        writeFileSync(opts.out, yaml);
        io.err(`draft register written to ${opts.out}\n`);
      } else io.out(yaml);
      setExit(0);
    });

  program
    .command('schema')
    .description('print the JSON Schema of register files (for editors)')
    .option('--out <file>', 'write it to a file')
    .action((opts: { out?: string }) => {
      const text = `${JSON.stringify(registerJsonSchema(), null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else io.out(text);
      setExit(0);
    });

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
    if (error instanceof RegistreError) {
      io.err(`registre: ${error.message}\n`);
      return 1;
    }
    const verbose = argv.includes('--verbose');
    io.err(
      `registre: unexpected error: ${(error as Error).message ?? String(error)}${verbose ? '' : ' (run with --verbose for details)'}\n`,
    );
    if (verbose) io.err(`${(error as Error).stack ?? ''}\n`);
    return 1;
  }
}
