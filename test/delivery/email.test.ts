import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { authenticate } from 'mailauth';
import { createEmailTransport, outboxFileName, type EmailConfig, type EmailMessage } from '../../src/delivery/email';
import { DeliveryError } from '../../src/delivery/errors';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { dkimTags, header } from './mail-headers';

const UNSUBSCRIBE = 'https://retention.example.com/unsubscribe?c=cus_1&ch=email&t=abc123';

function config(overrides: Partial<EmailConfig> = {}): EmailConfig {
  return {
    smtpUrl: undefined,
    from: 'Acme Coffee <hello@acme.test>',
    poolSize: 2,
    ratePerSecond: 100,
    outboxDir: path.join(os.tmpdir(), 'unused-outbox'),
    ...overrides,
  };
}

function message(n: number, to = `customer${n}@example.com`): EmailMessage {
  return {
    to,
    subject: `Hello #${n}`,
    html: `<p>Hello <b>${n}</b></p>`,
    text: `Hello ${n}\n`,
    messageId: `<wf-${n}.step-welcome@retention.local>`,
    unsubscribe: { url: UNSUBSCRIBE },
  };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('email over SMTP (real smtp-server)', () => {
  let smtp: FakeSmtpServer;
  beforeEach(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await smtp.close();
  });

  test('arrives with List-Unsubscribe, One-Click post header and the given Message-ID', async () => {
    const transport = createEmailTransport(config({ smtpUrl: smtp.url }));
    try {
      const result = await transport.sendEmail(message(1));
      expect(result.messageId).toBe('<wf-1.step-welcome@retention.local>');
      expect(result.accepted).toEqual(['customer1@example.com']);
    } finally {
      transport.close();
    }
    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.envelope).toEqual({ from: 'hello@acme.test', to: ['customer1@example.com'] });
    const raw = mail?.raw ?? '';
    expect(header(raw, 'Message-ID')).toBe('<wf-1.step-welcome@retention.local>');
    expect(header(raw, 'Subject')).toBe('Hello #1');
    expect(header(raw, 'List-Unsubscribe')).toBe(`<${UNSUBSCRIBE}>, <mailto:unsubscribe@acme.test?subject=unsubscribe>`);
    expect(header(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(header(raw, 'DKIM-Signature')).toBeUndefined();
    expect(raw).toContain('Hello 1');
    expect(raw).toContain('<p>Hello <b>1</b></p>');
  });

  test('DKIM signs List-Unsubscribe and List-Unsubscribe-Post: a verifier passes the message and fails any change to it', async () => {
    const rsaKeys = () =>
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'der' },
      });
    const { privateKey, publicKey } = rsaKeys();
    const transport = createEmailTransport(config({ smtpUrl: smtp.url }), {
      dkim: { domainName: 'acme.test', keySelector: 'rt2025', privateKey },
    });
    try {
      await transport.sendEmail({ ...message(2), unsubscribe: { url: UNSUBSCRIBE, mailto: 'mailto:u@acme.test?subject=stop' } });
    } finally {
      transport.close();
    }
    const [mail] = await smtp.waitForMessages(1);
    const raw = mail?.raw ?? '';
    expect(header(raw, 'List-Unsubscribe')).toBe(`<${UNSUBSCRIBE}>, <mailto:u@acme.test?subject=stop>`);
    const signature = header(raw, 'DKIM-Signature');
    expect(signature).toBeDefined();
    const tags = dkimTags(signature ?? '');
    expect(tags.d).toBe('acme.test');
    expect(tags.s).toBe('rt2025');
    const signed = (tags.h ?? '').toLowerCase().split(':');
    expect(signed).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'subject', 'message-id']));

    // mailauth verifies as a receiving server would, with the public key published at rt2025._domainkey.acme.test.
    const verify = async (message: string, key: Buffer = publicKey) => {
      const { dkim } = await authenticate(message, {
        resolver: async (name, type) => {
          if (name === 'rt2025._domainkey.acme.test' && type === 'TXT') return [[`v=DKIM1; k=rsa; p=${key.toString('base64')}`]];
          throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
        },
        sender: 'hello@acme.test',
        ip: '127.0.0.1',
        helo: 'localhost',
        mta: 'mx.example.com',
        disableArc: true,
        disableDmarc: true,
        disableBimi: true,
      });
      expect(dkim.results).toHaveLength(1);
      const [result] = dkim.results;
      expect(result).toMatchObject({ signingDomain: 'acme.test', selector: 'rt2025' });
      return result?.status.comment ? `${result.status.result} (${result.status.comment})` : result?.status.result;
    };
    expect(await verify(raw)).toBe('pass');
    const changed = (from: string, to: string) => {
      expect(raw).toContain(from);
      return raw.replace(from, to);
    };
    expect(await verify(changed('t=abc123>', 't=abc124>'))).toBe('fail (bad signature)'); // a signed header (List-Unsubscribe)
    expect(await verify(changed('List-Unsubscribe=One-Click', 'List-Unsubscribe=Two-Click'))).toBe('fail (bad signature)');
    // The body is covered by the signed body hash (`bh=`); like Gmail, mailauth calls that mismatch "neutral".
    expect(await verify(changed('Hello 2', 'Hello 3'))).toBe('neutral (body hash did not verify)');
    expect(await verify(raw, rsaKeys().publicKey)).toBe('fail (bad signature)'); // not the key published for rt2025
  });

  test('the pool reuses connections: fewer connections than messages', async () => {
    const transport = createEmailTransport(config({ smtpUrl: smtp.url, poolSize: 2 }));
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => transport.sendEmail(message(i))));
      expect(results).toHaveLength(8);
    } finally {
      transport.close();
    }
    await smtp.waitForMessages(8);
    expect(new Set(smtp.messages.map((m) => header(m.raw, 'Message-ID')))).toEqual(
      new Set(Array.from({ length: 8 }, (_, i) => `<wf-${i}.step-welcome@retention.local>`)),
    );
    expect(smtp.connections).toBeGreaterThanOrEqual(1);
    expect(smtp.connections).toBeLessThanOrEqual(2);
    expect(new Set(smtp.messages.map((m) => m.sessionId)).size).toBe(smtp.connections);
  });

  test('550 on RCPT is a permanent bounce; 451 is retryable', async () => {
    smtp.rejectRecipient('gone@example.com', 550);
    smtp.rejectRecipient('busy@example.com', 451);
    const transport = createEmailTransport(config({ smtpUrl: smtp.url }));
    try {
      const bounced = await transport.sendEmail(message(1, 'gone@example.com')).catch((e: unknown) => e);
      expect(bounced).toBeInstanceOf(DeliveryError);
      expect(bounced).toMatchObject({ kind: 'permanent', channel: 'email', details: { status: 550, command: 'RCPT TO', suppressAddress: true } });
      expect((bounced as DeliveryError).retryable).toBe(false);

      const deferred = await transport.sendEmail(message(2, 'busy@example.com')).catch((e: unknown) => e);
      expect(deferred).toBeInstanceOf(DeliveryError);
      expect(deferred).toMatchObject({ kind: 'retryable', details: { status: 451 } });
      expect((deferred as DeliveryError).retryable).toBe(true);

      // the good recipient still goes through on the same transport
      await transport.sendEmail(message(3));
    } finally {
      transport.close();
    }
    const received = await smtp.waitForMessages(1);
    expect(received.map((m) => m.envelope.to)).toEqual([['customer3@example.com']]);
  });

  test('connection refused is retryable', async () => {
    const port = await closedPort();
    const transport = createEmailTransport(config({ smtpUrl: `smtp://127.0.0.1:${port}` }));
    try {
      const err = await transport.sendEmail(message(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect(err).toMatchObject({ kind: 'retryable', details: { code: 'ECONNREFUSED' } });
    } finally {
      transport.close();
    }
  });
});

describe('email outbox (no SMTP_URL)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes a readable .eml named by the Message-ID', async () => {
    const transport = createEmailTransport(config({ outboxDir: dir }));
    expect(transport.kind).toBe('outbox');
    const result = await transport.sendEmail({ ...message(7), text: 'Welcome aboard, Ada!\nYour points: 120\n' });
    expect(result.file).toBe(path.join(dir, 'wf-7.step-welcome@retention.local.eml'));
    expect(outboxFileName('<a/b@c>')).toBe('a_b@c.eml');
    expect(await readdir(dir)).toEqual(['wf-7.step-welcome@retention.local.eml']);
    const raw = await readFile(result.file as string, 'utf8');
    expect(header(raw, 'To')).toBe('customer7@example.com');
    expect(header(raw, 'From')).toBe('Acme Coffee <hello@acme.test>');
    expect(header(raw, 'Subject')).toBe('Hello #7');
    expect(header(raw, 'Message-ID')).toBe('<wf-7.step-welcome@retention.local>');
    expect(header(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(raw).toContain('Welcome aboard, Ada!\nYour points: 120');
    expect(raw).not.toContain('\r\n');

    // a retry of the same step replaces the file instead of adding one
    await transport.sendEmail({ ...message(7), subject: 'Hello again' });
    expect(await readdir(dir)).toEqual(['wf-7.step-welcome@retention.local.eml']);
    expect(header(await readFile(result.file as string, 'utf8'), 'Subject')).toBe('Hello again');
  });

  test('rejects a message id that is not <local@domain>', async () => {
    const transport = createEmailTransport(config({ outboxDir: dir }));
    await expect(transport.sendEmail({ ...message(1), messageId: 'no-brackets' })).rejects.toThrow(/messageId/);
  });
});
