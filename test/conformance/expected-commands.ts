import type { ConnectionCommands } from './connection-commands.js';
import type { ExpectedDifference } from './expected-difference.js';

export interface ExpectedCommands {
  commands: ConnectionCommands;
  /** Differences that no longer match tshark's output: the table must be reviewed. */
  stale: string[];
}

/**
 * tshark's commands with the listed differences applied: what the sensor must print. Every
 * difference is checked against tshark's output first, so that a table written for one tshark
 * version or one capture cannot silently apply to another.
 */
export function expectedCommands(
  tshark: ConnectionCommands, differences: readonly ExpectedDifference[],
): ExpectedCommands {
  const commands: ConnectionCommands = new Map();
  for (const [name, list] of tshark) commands.set(name, [...list]);
  const stale: string[] = [];
  // From the last index down, so that each `at` still counts in tshark's own list.
  const ordered = [...differences].sort((a, b) => b.at - a.at);
  for (const difference of ordered) {
    const list = commands.get(difference.connection) ?? [];
    const found = list.slice(difference.at, difference.at + difference.tshark.length);
    if (difference.at > list.length || !sameTexts(found, difference.tshark)) {
      stale.push(`${difference.connection} at ${difference.at}: the table expects tshark to `
        + `show ${JSON.stringify(difference.tshark)}, it shows ${JSON.stringify(found)}`);
      continue;
    }
    list.splice(difference.at, difference.tshark.length, ...difference.sensor);
    commands.set(difference.connection, list);
  }
  for (const [name, list] of commands) if (list.length === 0) commands.delete(name);
  return { commands, stale };
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}
