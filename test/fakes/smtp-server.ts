import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The message exactly as received over DATA. */
  raw: string;
  /** Id of the SMTP session (connection) that carried it. */
  sessionId: string;
  /** When the end of DATA arrived. */
  receivedAt: Date;
}

export interface SmtpServerOptions {
  /** Listen on this port of 127.0.0.1 (default: a free port chosen by the system). */
  port?: number;
  /**
   * Called for each message about to be accepted, after it is in `messages` and before the server answers 250:
   * the answer waits for it (a chaos test records the message here, or kills the sender before it hears back).
   */
  onMessage?: (mail: ReceivedMail) => void | Promise<void>;
}

export interface FakeSmtpServer {
  host: string;
  port: number;
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  messages: ReceivedMail[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Answer RCPT TO for this address with the given code from now on (550 bounce, 451 try later...). */
  rejectRecipient(address: string, code: number, message?: string): void;
  /** Answer the next `count` messages (at the end of DATA) with this reply instead of accepting them (421, 451...). */
  failNextMessages(count: number, code: number, message?: string): void;
  /** Resolves once `count` messages have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server package) on 127.0.0.1 and a random port, collecting what it receives. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<FakeSmtpServer> {
  const messages: ReceivedMail[] = [];
  const rejections = new Map<string, { code: number; message: string }>();
  const failures: { code: number; message: string }[] = [];
  let connections = 0;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const rejection = rejections.get(address.address.toLowerCase());
      if (rejection) {
        const err = new Error(rejection.message) as Error & { responseCode: number };
        err.responseCode = rejection.code;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const failure = failures.shift();
        if (failure) {
          const err = new Error(failure.message) as Error & { responseCode: number };
          err.responseCode = failure.code;
          return callback(err);
        }
        const mail: ReceivedMail = {
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          raw: Buffer.concat(chunks).toString('utf8'),
          sessionId: session.id,
          receivedAt: new Date(),
        };
        messages.push(mail);
        if (!options.onMessage) return callback();
        Promise.resolve()
          .then(() => options.onMessage?.(mail))
          .then(
            () => callback(),
            (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
          );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get connections() {
      return connections;
    },
    rejectRecipient(address, code, message) {
      const text = message ?? (code >= 500 ? '5.1.1 No such user here' : '4.2.1 Mailbox busy, try again later');
      rejections.set(address.toLowerCase(), { code, message: text });
    },
    failNextMessages(count, code, message) {
      const text = message ?? (code >= 500 ? '5.3.0 Message refused' : '4.3.0 Temporary failure, try again later');
      for (let i = 0; i < count; i++) failures.push({ code, message: text });
    },
    async waitForMessages(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${messages.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
