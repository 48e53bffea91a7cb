/**
 * What the conformance test compares: for each TCP connection of a capture, the client's
 * commands in order, each written `VERB argument` (verb upper-cased, argument as the DESIGN
 * CommandArg1 rules give it; just `VERB` when there is no argument).
 *
 * A connection is named after its endpoints, client first: `10.0.0.1:40531 > 10.0.0.2:25`
 * (IPv6 addresses in brackets). When one capture holds several connections with the same
 * endpoints (a reused four-tuple), the second and later ones get ` #2`, ` #3`...
 */
export type ConnectionCommands = Map<string, string[]>;

export interface Endpoint {
  address: string;
  port: string;
}

export function endpointText(endpoint: Endpoint): string {
  const address = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  return `${address}:${endpoint.port}`;
}

/**
 * Collects commands per connection. `connectionId` is whatever tells two connections with the
 * same endpoints apart (tshark's tcp.stream, the sensor's SmtpSessionId); connections are
 * numbered in the order their first command arrives.
 */
export class ConnectionCommandsBuilder {
  readonly commands: ConnectionCommands = new Map();
  private readonly nameOfId = new Map<string, string>();
  private readonly idsPerEndpoints = new Map<string, number>();

  add(connectionId: string, client: Endpoint, server: Endpoint, command: string): void {
    let name = this.nameOfId.get(connectionId);
    if (name === undefined) {
      const endpoints = `${endpointText(client)} > ${endpointText(server)}`;
      const seen = (this.idsPerEndpoints.get(endpoints) ?? 0) + 1;
      this.idsPerEndpoints.set(endpoints, seen);
      name = seen === 1 ? endpoints : `${endpoints} #${seen}`;
      this.nameOfId.set(connectionId, name);
      this.commands.set(name, []);
    }
    this.commands.get(name)?.push(command);
  }
}

/** Plain object form, sorted by connection name, for assert.deepEqual and its diff. */
export function commandsByConnection(commands: ConnectionCommands): Record<string, string[]> {
  const names = [...commands.keys()].sort();
  return Object.fromEntries(names.map((name) => [name, commands.get(name) ?? []]));
}
