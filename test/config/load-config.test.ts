import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-config-'));
let files = 0;

function configFile(text: string): string {
  const path = join(scratch, `config-${files++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function refusal(text: string): ConfigError {
  try {
    loadConfig(configFile(text));
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('the configuration was accepted');
}

describe('loadConfig', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('fills every default from an empty file', () => {
    const config = loadConfig(configFile(''));
    assert.deepEqual(config.capture, { interface: 'any', ports: [25, 465, 587], inbound: false,
      buffer_mib: 32 });
    assert.deepEqual(config.output.sinks, [{ type: 'stdout' }]);
    assert.equal(config.spool.directory, '/var/lib/smtp-sensor/spool');
    assert.equal(config.spool.max_bytes, 256 * 1024 * 1024);
    assert.deepEqual(config.stats.prometheus, { enabled: false, listen: '127.0.0.1:9469',
      allow_remote: false });
    assert.equal(config.logging.level, 'info');
  });

  it('reads the shipped default configuration without complaint', () => {
    const shipped = new URL('../../../systemd/config.yaml', import.meta.url);
    const config = loadConfig(shipped.pathname);
    assert.deepEqual(config.output.sinks, [{ type: 'stdout' }]);
  });

  it('fills the defaults of each sink type', () => {
    const config = loadConfig(configFile(`
output:
  sinks:
    - type: syslog
      host: 127.0.0.1
    - type: http
      url: https://127.0.0.1:8443/ingest
    - type: file
`));
    const [syslog, http, file] = config.output.sinks;
    assert.ok(syslog.type === 'syslog' && http.type === 'http' && file.type === 'file');
    assert.equal(syslog.tls, false);
    assert.equal(syslog.facility, 'local0');
    assert.deepEqual(syslog.batch, { max_events: 500, max_bytes: 1024 * 1024 });
    assert.deepEqual(http.retry, { initial_ms: 500, max_ms: 60_000 });
    assert.equal(http.gzip, true);
    assert.deepEqual(file, { type: 'file', path: '/var/log/smtp-sensor/events.json',
      max_bytes: 100 * 1024 * 1024, keep: 5 });
  });

  it('lets command-line overrides replace the file\'s values, key by key', () => {
    const path = configFile('capture:\n  interface: eth0\n  ports: [25]\n  inbound: true\n');
    const config = loadConfig(path, { capture: { ports: [2525, 587], interface: undefined },
      logging: { level: 'debug' } });
    assert.deepEqual(config.capture.ports, [2525, 587]);
    assert.equal(config.capture.interface, 'eth0');
    assert.equal(config.capture.inbound, true);
    assert.equal(config.logging.level, 'debug');
  });

  // `run --where EXPR` passes { output: { where: EXPR } }, and { output: { where: undefined } }
  // without the flag.
  it('puts a --where override in output.where, over the file\'s, keeping its sinks', () => {
    const path = configFile('output:\n  where: "SmtpCommandKind=RCPT"\n  sinks:\n'
      + '    - type: file\n');
    const config = loadConfig(path, { output: { where: 'SmtpCommandKind=MAIL' } });
    assert.equal(config.output.where, 'SmtpCommandKind=MAIL');
    assert.deepEqual(config.output.sinks.map((sink) => sink.type), ['file']);
    const withoutFlag = loadConfig(path, { output: { where: undefined } });
    assert.equal(withoutFlag.output.where, 'SmtpCommandKind=RCPT');
    const noFile = loadConfig(configFile(''), { output: { where: 'SmtpVerb=QUIT' } });
    assert.equal(noFile.output.where, 'SmtpVerb=QUIT');
  });

  it('refuses a --where override that does not parse, naming output.where and the position',
    () => {
      const path = configFile('output:\n  where: "SmtpCommandKind=RCPT"\n');
      assert.throws(() => loadConfig(path, { output: { where: 'a=(' } }), (error: unknown) =>
        error instanceof ConfigError && error.code === 'config_invalid'
        && /^output\.where: expected a hunting expression: .* at position 2$/
          .test(error.message));
    });

  it('refuses a section that is not a mapping, even when flags fill that section', () => {
    // `run` passes every section of flags, with undefined values when no flag is given.
    const flags = { capture: { interface: undefined }, logging: { level: undefined } };
    assert.throws(() => loadConfig(configFile('logging: debug\n'), flags),
      /^ConfigError: logging: expected object, received string$/);
    assert.throws(() => loadConfig(configFile('capture: [lo]\n'), flags),
      /^ConfigError: capture: expected object, received array$/);
    const empty = loadConfig(configFile('capture:\nlogging:\n'), flags);
    assert.equal(empty.capture.interface, 'any', 'an empty section is all defaults');
  });

  it('names the key and what was expected when an override is bad', () => {
    assert.throws(() => loadConfig(configFile(''), { capture: { buffer_mib: -1 } }),
      /^ConfigError: capture\.buffer_mib: .*>0/);
  });

  const refusals: readonly [string, string, RegExp][] = [
    ['a port out of range', 'capture:\n  ports: [70000]\n', /^capture\.ports\[0\]: .*65535/],
    ['a misspelled key', 'capture:\n  interfce: eth0\n', /^capture\.interfce: unknown key/],
    ['an http sink without url', 'output:\n  sinks:\n    - type: http\n',
      /^output\.sinks\[0\]\.url: /],
    ['an unknown sink type', 'output:\n  sinks:\n    - type: kafka\n',
      /^output\.sinks\[0\]\.type: .*stdout.*file.*syslog.*http/],
    ['a bad filter expression', 'output:\n  sinks:\n    - type: stdout\n      where: "a=("\n',
      /^output\.sinks\[0\]\.where: expected a hunting expression/],
    ['a bad global filter', 'output:\n  where: "OR"\n', /^output\.where: expected a hunting/],
    ['a non-https url', 'output:\n  sinks:\n    - type: http\n      url: ftp://x/\n',
      /^output\.sinks\[0\]\.url: /],
    ['metrics exposed beyond loopback', 'stats:\n  prometheus:\n    listen: 0.0.0.0:9469\n',
      /^stats\.prometheus\.listen: expected a loopback address/],
    ['spool segments too large for the cap',
      'spool:\n  max_bytes: 2000000\n  segment_bytes: 1000000\n',
      /^spool\.segment_bytes: expected at most a quarter of spool\.max_bytes \(500000\)/],
    ['an unknown log level', 'logging:\n  level: loud\n', /^logging\.level: .*info/],
    ['two sinks of one name', 'output:\n  sinks:\n    - type: stdout\n    - type: file\n'
      + '      name: stdout\n', /^output\.sinks\[1\]\.name: expected a name no other sink/],
    ['a missing CA file', 'output:\n  sinks:\n    - type: syslog\n      host: h\n'
      + '      ca_file: /nonexistent/ca.pem\n',
    /^output\.sinks\[0\]\.ca_file: expected a readable file, got '\/nonexistent\/ca\.pem'/],
    ['retry bounds the wrong way round', 'output:\n  sinks:\n    - type: http\n'
      + '      url: http://127.0.0.1/\n      retry: {initial_ms: 5000, max_ms: 100}\n',
    /^output\.sinks\[0\]\.retry\.initial_ms: expected at most retry\.max_ms \(100\)/],
    ['a file that is not YAML', 'capture: [\n', /is not valid YAML: .* at line 2, column 1$/],
    ['a list at the top', '- 1\n', /^\(top level\): expected a mapping of sections/],
  ];
  for (const [scenario, text, expected] of refusals) {
    it(`refuses ${scenario} with one line naming the key`, () => {
      const error = refusal(text);
      assert.match(error.message, expected);
      assert.equal(error.message.includes('\n'), false);
      assert.equal(error.code, 'config_invalid');
    });
  }

  it('refuses a configuration file given explicitly that does not exist', () => {
    assert.throws(() => loadConfig(join(scratch, 'absent.yaml')), (error: unknown) =>
      error instanceof ConfigError && error.code === 'config_unreadable'
      && error.message.includes('absent.yaml'));
  });
});
