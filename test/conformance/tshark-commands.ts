import { execFile } from 'node:child_process';
import { ConnectionCommandsBuilder } from './connection-commands.js';
import type { ConnectionCommands, Endpoint } from './connection-commands.js';
import { argumentFromParameter, commandText } from './command-text.js';

/** Ports tshark reads SMTP on by default: 25 and 587, and 465 inside TLS. */
const TSHARK_SMTP_PORTS = [25, 465, 587];
const TSHARK_TIMEOUT_MILLISECONDS = 120_000;
const OUTPUT_LIMIT_BYTES = 512 * 1024 * 1024;
/**
 * How a tshark request without a command line reads: AUTH continuation lines (RFC 4954 section
 * 4), which tshark marks `smtp.req` with only `smtp.auth.*` fields. `-T fields` prints them as
 * rows with an empty command and parameter; here they keep that empty text.
 */
export const TSHARK_ROW_WITHOUT_COMMAND = '';

export interface TsharkRun {
  commands: ConnectionCommands;
  command: string;
}

/**
 * tshark's SMTP dissector on one capture: the same requests as
 * `tshark -r F -Y smtp.req -T fields -e tcp.stream -e tcp.srcport -e tcp.dstport
 * -e smtp.req.command -e smtp.req.parameter`, read as JSON instead. With `-T fields`, a packet
 * holding several pipelined lines prints its commands and its parameters as two separate
 * lists, and a command without a parameter (DATA) makes them impossible to pair; the JSON
 * tree keeps each command line's command and parameter together.
 */
export async function readTsharkCommands(
  capturePath: string, ports: readonly number[],
): Promise<TsharkRun> {
  const decodeAs = ports.filter((port) => !TSHARK_SMTP_PORTS.includes(port))
    .flatMap((port) => ['-d', `tcp.port==${port},smtp`]);
  const argv = ['-r', capturePath, ...decodeAs, '-Y', 'smtp.req', '-T', 'json',
    '--no-duplicate-keys', '-J', 'ip ipv6 tcp smtp'];
  const command = `tshark ${argv.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg)).join(' ')}`;
  const stdout = await run('tshark', argv, command);
  return { commands: groupCommands(JSON.parse(stdout) as TsharkPacket[]), command };
}

function run(file: string, argv: string[], command: string): Promise<string> {
  const options = { timeout: TSHARK_TIMEOUT_MILLISECONDS, maxBuffer: OUTPUT_LIMIT_BYTES };
  return new Promise((resolve, reject) => {
    execFile(file, argv, options, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${command} failed: ${error.message}\n${stderr.slice(-2000)}`));
    });
  });
}

/** A value tshark's JSON gives once as a string, or as an array when the field repeats. */
type OneOrMany<T> = T | T[];

interface CommandLineTree {
  'smtp.req.command'?: string;
  'smtp.req.parameter'?: string;
}

interface TsharkPacket {
  _source: { layers: Record<string, OneOrMany<Record<string, unknown>>> };
}

function many<T>(value: OneOrMany<T> | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function groupCommands(packets: readonly TsharkPacket[]): ConnectionCommands {
  const builder = new ConnectionCommandsBuilder();
  for (const packet of packets) {
    const layers = packet._source.layers;
    const tcp = many(layers.tcp)[0];
    const [client, server] = endpoints(layers, tcp);
    const stream = String(tcp['tcp.stream']);
    for (const smtp of many(layers.smtp)) {
      for (const text of requestTexts(smtp)) builder.add(stream, client, server, text);
    }
  }
  return builder.commands;
}

/** A request packet goes from client to server; tunnels put the innermost IP layer last. */
function endpoints(layers: TsharkPacket['_source']['layers'], tcp: Record<string, unknown>) {
  let source = '';
  let destination = '';
  for (const [name, value] of Object.entries(layers)) {
    if (name !== 'ip' && name !== 'ipv6') continue;
    const inner = many(value).at(-1) ?? {};
    source = String(inner[`${name}.src`]);
    destination = String(inner[`${name}.dst`]);
  }
  const client: Endpoint = { address: source, port: String(tcp['tcp.srcport']) };
  const server: Endpoint = { address: destination, port: String(tcp['tcp.dstport']) };
  return [client, server];
}

function requestTexts(smtp: Record<string, unknown>): string[] {
  const lines = many(smtp['smtp.command_line_tree'] as OneOrMany<CommandLineTree> | undefined);
  if (lines.length === 0) {
    return many(smtp['smtp.req'] as OneOrMany<string>).map(() => TSHARK_ROW_WITHOUT_COMMAND);
  }
  return lines.map((line) => {
    const verb = line['smtp.req.command'] ?? '';
    return commandText(verb, argumentFromParameter(verb, line['smtp.req.parameter'] ?? ''));
  });
}
