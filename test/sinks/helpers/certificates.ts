import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  caPath: string;
  certPath: string;
  keyPath: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/**
 * A throw-away CA and a server certificate it signed for 127.0.0.1 and localhost, made by
 * openssl in `directory`: tests prove that TLS is checked against a custom CA, not skipped.
 */
export function makeCertificates(directory: string): TestCertificates {
  const path = (name: string) => join(directory, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
    '/CN=smtp-sensor test CA', '-keyout', path('ca.key'), '-out', path('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-keyout', path('server.key'), '-out', path('server.csr'));
  const extensions = path('server.ext');
  writeFileSync(extensions, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey',
    path('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', extensions,
    '-out', path('server.pem'));
  return { caPath: path('ca.pem'), certPath: path('server.pem'), keyPath: path('server.key'),
    ca: readFileSync(path('ca.pem')), cert: readFileSync(path('server.pem')),
    key: readFileSync(path('server.key')) };
}
