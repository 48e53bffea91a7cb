import { Kind } from './command-kind.js';
import type { SmtpRecordSink, TlsStart } from './smtp-record-sink.js';
import type { SmtpStats } from './smtp-stats.js';
import { HelloState, TlsClientHelloReader } from './tls-client-hello.js';

/** Verbs named in a plaintext_after_starttls detail; more are counted, not named. */
export const MAX_INJECTED_VERBS = 16;

/**
 * How a session leaves plaintext: after an accepted STARTTLS, the plaintext lines the client
 * still sends before its TLS handshake (CVE-2011-0411: a server may run them inside the TLS
 * session), named in one plaintext_after_starttls and never reported as commands; then the
 * ClientHello, which becomes the session's one SmtpTlsHandshake. Call order: `injectedLine`
 * and `reportInjected` only before `startHello`; `pushHello` until it returns true, or
 * `finishHello` when bytes are lost or the connection ends first.
 */
export class TlsTransition {
  start: TlsStart = 'starttls';
  private hello: TlsClientHelloReader | null = null;
  private injectedVerbs: string[] = [];
  /** Injected lines not named: no SMTP verb, past the limit, or after an AUTH line. */
  private otherLines = 0;
  private afterAuth = false;

  constructor(private readonly sink: SmtpRecordSink, private readonly stats: SmtpStats) {}

  /**
   * One plaintext line: its verb is named only when it is an SMTP verb, so that no message
   * text, and no AUTH line after an AUTH command (a credential), reaches the detail.
   */
  injectedLine(kind: number, verb: string): void {
    this.stats.plaintext_after_starttls_lines++;
    if (kind === Kind.UNKNOWN || this.afterAuth) {
      this.otherLines++;
      return;
    }
    this.afterAuth = kind === Kind.AUTH;
    if (this.injectedVerbs.length === MAX_INJECTED_VERBS) {
      this.stats.plaintext_after_starttls_verbs_dropped++;
      this.otherLines++;
      return;
    }
    this.injectedVerbs.push(verb);
  }

  reportInjected(time: number): void {
    const verbs = this.injectedVerbs.join(' ');
    if (verbs === '' && this.otherLines === 0) return;
    const others = this.otherLines === 0 ? '' : `${this.otherLines} other lines`;
    const text = verbs === '' || others === '' ? verbs + others : `${verbs}; ${others}`;
    this.sink.anomaly('plaintext_after_starttls',
      `plaintext after STARTTLS was accepted: ${text}`, time);
    this.injectedVerbs = [];
    this.otherLines = 0;
  }

  startHello(start: TlsStart): void {
    this.start = start;
    this.hello = new TlsClientHelloReader();
  }

  /** Takes client bytes of the handshake; true once the ClientHello is read or unreadable. */
  pushHello(buf: Uint8Array, pos: number, end: number): boolean {
    const hello = this.hello;
    return hello === null || hello.push(buf, pos, end) !== HelloState.Incomplete;
  }

  /**
   * Reports the SmtpTlsHandshake. After STARTTLS a hello that could not be read still gives
   * one, with empty fields; a connection that opened with 0x16 but holds no ClientHello is not
   * TLS at all: then nothing is reported and false is returned.
   */
  finishHello(time: number): boolean {
    const hello = this.hello;
    this.hello = null;
    if (hello === null) return true;
    if (hello.overflowed) this.stats.tls_client_hello_overflows++;
    if (hello.state === HelloState.Read) {
      this.stats.tls_handshakes++;
      this.sink.tlsHandshake(hello.serverName, hello.version, this.start, time);
      return true;
    }
    this.stats.tls_client_hellos_unreadable++;
    if (this.start === 'implicit') return false;
    this.sink.tlsHandshake('', '', this.start, time);
    return true;
  }
}
