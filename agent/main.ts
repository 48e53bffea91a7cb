import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CaptureError } from '../src/capture/capture-error.js';
import { ConfigError } from '../src/config/config-error.js';
import { DEFAULT_CONFIG_PATH } from '../src/config/config-path.js';
import { compileQuery } from '../src/events/query/query-compiler.js';
import { ProcError } from '../src/proc/proc-error.js';
import { SinkError } from '../src/sinks/sink-error.js';
import { QueryError } from '../src/events/query/query-error.js';
import { createLogger } from './logger.js';
import { DEFAULT_PORTS, parsePortList } from './port-list.js';
import { runOverrides } from './run-overrides.js';
import { UsageError } from './usage-error.js';

const EXIT_USAGE = 2;
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

const PORTS_OPTION = {
  type: 'string',
  default: DEFAULT_PORTS.join(','),
  describe: 'TCP ports that carry SMTP, comma-separated',
} as const;

const WHERE_OPTION = {
  type: 'string',
  describe: 'keep only the events that match this hunting expression',
} as const;

const LOG_LEVEL_OPTION = {
  type: 'string',
  default: 'info',
  choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  describe: 'level of the agent\'s own logs on standard error',
} as const;

/** The ports and the --where filter, checked before anything starts. */
function filterOptions(args: { ports: string; where?: string }) {
  const ports = parsePortList(args.ports);
  const where = args.where === undefined ? undefined : compileQuery(args.where);
  return { ports, where };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  await yargs(argv)
    .scriptName('smtp-sensor')
    .usage('$0 <command> [options]\n\nReports every SMTP command a host sends, with the '
      + 'process that sent it.')
    .command('run', 'Capture live and send the events of local senders to the outputs',
      (y) => y
        .option('config', { type: 'string',
          describe: `YAML configuration file (default ${DEFAULT_CONFIG_PATH}, if present)` })
        .option('interface', { type: 'string',
          describe: 'interface to capture on; any means all of them (default any)' })
        .option('ports', { type: 'string',
          describe: 'TCP ports that carry SMTP, comma-separated (default 25,465,587)' })
        .option('inbound', { type: 'boolean',
          describe: 'also report what remote clients send to local mail servers' })
        .option('buffer-size', { type: 'number',
          describe: 'kernel capture buffer, MiB (default 32); packets past it are counted' })
        .option('stats-interval', { type: 'number',
          describe: 'seconds between stats lines in the log (default 60)' })
        .option('where', WHERE_OPTION)
        .option('log-level', { ...LOG_LEVEL_OPTION, default: undefined }),
      async (args) => {
        // Each command loads only what it uses: replay and query start faster without the
        // live side (configuration schema, sinks, metrics), a tenth of a replay's time.
        const [{ loadConfig }, { runLive }] = await Promise.all([
          import('../src/config/load-config.js'), import('./run-command.js')]);
        const overrides = runOverrides(args);
        const config = loadConfig(args.config, overrides);
        const log = createLogger(config.logging.level);
        exitCode = await runLive({ config, path: args.config, overrides }, log);
        // node_pcap keeps polling the closed live capture's descriptor (see
        // closeNativeSession): everything is flushed and closed by now, so exit.
        process.exit(exitCode);
      })
    .command('replay <files..>', 'Read pcap/pcapng files and print their events as JSON lines',
      (y) => y
        .positional('files', { type: 'string', array: true, demandOption: true,
          describe: 'capture files (pcap, pcapng, optionally gzip-compressed), read in order' })
        .option('ports', PORTS_OPTION)
        .option('where', WHERE_OPTION)
        .option('log-level', LOG_LEVEL_OPTION),
      async (args) => {
        const { ports, where } = filterOptions(args);
        const { runReplay } = await import('./replay-command.js');
        const log = createLogger(args['log-level']);
        exitCode = await runReplay({ files: args.files, ports, where }, log);
      })
    .command('query <expression> [files..]',
      'Print the event lines (from files or standard input) that match a hunting expression',
      (y) => y
        .positional('expression', { type: 'string', demandOption: true,
          describe: 'e.g. \'event_simpleName=SmtpCommand SmtpCommandKind=MAIL\'' })
        .positional('files', { type: 'string', array: true, default: [] as string[],
          describe: 'files of JSON event lines; standard input when none' })
        .option('count', { type: 'boolean',
          describe: 'print only the number of matching events' })
        .option('table', { type: 'string',
          describe: 'print these comma-separated fields of each match as aligned columns' })
        .conflicts('count', 'table'),
      async (args) => {
        const { runQueryCommand } = await import('./query-command.js');
        exitCode = await runQueryCommand({
          expression: args.expression,
          files: args.files,
          count: args.count === true,
          table: args.table?.split(',').map((field) => field.trim()).filter(Boolean),
          stdin: process.stdin,
          stdout: process.stdout,
          stderr: new Writable({
            write(chunk: Buffer, _encoding, done) {
              process.stderr.write(`smtp-sensor: ${chunk.toString()}`, done);
            },
          }),
        });
      })
    .demandCommand(1, 'Name a command: run, replay or query')
    .strict()
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    })
    .parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof QueryError) {
      process.stderr.write(`smtp-sensor: --where: ${error.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (error instanceof UsageError || error instanceof CaptureError
      || error instanceof ConfigError || error instanceof SinkError
      || error instanceof ProcError) {
      process.stderr.write(`smtp-sensor: ${error.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`smtp-sensor: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
