import type { SendOptions, TcpConversation } from './tcp-conversation.js';

/**
 * SMTP in lock-step over a TcpConversation: the client's bytes, then the server's reply.
 * Strings are taken as latin1, so '\xff' in a test is the single byte 0xff on the wire.
 */
export class SmtpDialog {
  constructor(readonly conversation: TcpConversation) {}

  banner(reply = '220 mx.example.org ESMTP\r\n'): this {
    this.conversation.send('server', reply);
    return this;
  }

  /** Client bytes (a line, several pipelined lines, or a message body), then one reply. */
  exchange(clientBytes: string | Buffer, reply: string, options?: SendOptions): this {
    this.conversation.send('client', clientBytes, options);
    this.conversation.send('server', reply);
    return this;
  }

  client(bytes: string | Buffer, options?: SendOptions): this {
    this.conversation.send('client', bytes, options);
    return this;
  }

  server(bytes: string | Buffer, options?: SendOptions): this {
    this.conversation.send('server', bytes, options);
    return this;
  }

  /**
   * EHLO, MAIL, RCPT, DATA with a short body, QUIT: the session most cases wrap or vary.
   * Commands it sends: `EHLO client.example.org`, `MAIL FROM:<alice@example.org>`,
   * `RCPT TO:<bob@example.net>`, `DATA`, `QUIT`.
   */
  plainMailSession(): this {
    return this.banner()
      .exchange('EHLO client.example.org\r\n', '250-mx.example.org\r\n250 PIPELINING\r\n')
      .exchange('MAIL FROM:<alice@example.org>\r\n', '250 2.1.0 Ok\r\n')
      .exchange('RCPT TO:<bob@example.net>\r\n', '250 2.1.5 Ok\r\n')
      .exchange('DATA\r\n', '354 End data with <CR><LF>.<CR><LF>\r\n')
      .exchange('Subject: hello\r\n\r\nHello Bob.\r\n.\r\n', '250 2.0.0 Ok: queued\r\n')
      .exchange('QUIT\r\n', '221 2.0.0 Bye\r\n');
  }
}
