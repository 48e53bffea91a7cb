import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectionCommandsBuilder } from './connection-commands.js';
import type { ConnectionCommands } from './connection-commands.js';
import { commandText } from './command-text.js';

/** The public captures are at most a few MB; a replay that takes this long is stuck. */
const REPLAY_TIMEOUT_MILLISECONDS = 120_000;

export interface SensorRun {
  commands: ConnectionCommands;
  /** The command line, for failure messages. */
  command: string;
}

/**
 * Replays one capture with `node agent/smtp-sensor replay --ports PORTS FILE` and groups its
 * SmtpCommand events by connection. Standard output goes to a file in `scratchFolder` rather
 * than a pipe, so that how fast this process reads cannot change what the sensor writes.
 */
export async function readSensorCommands(
  repositoryRoot: string, capturePath: string, ports: readonly number[], scratchFolder: string,
): Promise<SensorRun> {
  const argv = [join('agent', 'smtp-sensor'), 'replay', '--ports', ports.join(','), capturePath];
  const command = `node ${argv.join(' ')}`;
  const outputPath = join(scratchFolder, 'sensor-events.jsonl');
  const stderr = await runToFile(repositoryRoot, argv, outputPath, command);
  if (!stderr.includes('replay finished')) {
    throw new Error(`${command} did not log 'replay finished'; stderr:\n${stderr.slice(-2000)}`);
  }
  return { commands: groupCommands(readFileSync(outputPath, 'utf8'), command), command };
}

function runToFile(cwd: string, argv: string[], outputPath: string, command: string) {
  const output = openSync(outputPath, 'w');
  const child = spawn(process.execPath, argv, {
    cwd,
    stdio: ['ignore', output, 'pipe'],
    timeout: REPLAY_TIMEOUT_MILLISECONDS,
  });
  closeSync(output);
  let stderr = '';
  // Piped, as the stdio option says, so never null.
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => { stderr += text; });
  return new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stderr);
      else reject(new Error(`${command} ended with ${signal ?? `exit code ${code}`}; stderr:\n`
        + stderr.slice(-2000)));
    });
  });
}

interface SmtpCommandEvent {
  event_simpleName: string;
  SmtpVerb: string;
  CommandArg1: string;
  LocalAddressIP4?: string;
  LocalAddressIP6?: string;
  LocalPort: string;
  RemoteAddressIP4?: string;
  RemoteAddressIP6?: string;
  RemotePort: string;
  SmtpSessionId: string;
}

/** Other event kinds (TLS, anomalies) are not commands and are left out. */
function groupCommands(jsonLines: string, command: string): ConnectionCommands {
  const builder = new ConnectionCommandsBuilder();
  for (const [index, line] of jsonLines.split('\n').entries()) {
    if (line === '') continue;
    let event: SmtpCommandEvent;
    try {
      event = JSON.parse(line) as SmtpCommandEvent;
    } catch {
      throw new Error(`${command}: output line ${index + 1} is not JSON: ${line.slice(0, 200)}`);
    }
    if (event.event_simpleName !== 'SmtpCommand') continue;
    const client = { address: event.LocalAddressIP4 ?? event.LocalAddressIP6 ?? '',
      port: event.LocalPort };
    const server = { address: event.RemoteAddressIP4 ?? event.RemoteAddressIP6 ?? '',
      port: event.RemotePort };
    const text = commandText(event.SmtpVerb, event.CommandArg1);
    builder.add(event.SmtpSessionId, client, server, text);
  }
  return builder.commands;
}
