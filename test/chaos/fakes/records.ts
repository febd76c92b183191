import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** One message an outside-world fake accepted, one JSON line each in its JSONL file. */
interface RecordBase {
  /** ISO time the fake accepted it (end of DATA / the create request). */
  at: string;
  /** Set when the fake SIGKILLed this process right after recording the message, before answering. */
  killedPid?: number;
}

export interface EmailRecord extends RecordBase {
  channel: 'email';
  from: string;
  to: string[];
  /** The Message-ID header as received, e.g. `<onboarding-c1.welcome@retention.local>`. */
  messageId: string;
  subject: string;
  sessionId: string;
}

export interface SmsRecord extends RecordBase {
  channel: 'sms';
  sid: string;
  to: string;
  from: string | null;
  body: string;
}

export type ReceivedRecord = EmailRecord | SmsRecord;

/** One write per record (O_APPEND): a process killed mid-way leaves at most one partial last line. */
export function appendRecord(file: string, record: ReceivedRecord): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Every complete record of a JSONL file; a torn line (the fake was killed while writing) is skipped. */
export function readRecords<T extends ReceivedRecord = ReceivedRecord>(file: string): T[] {
  if (!existsSync(file)) return [];
  const records: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // torn line
    }
  }
  return records;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`, `=?UTF-8?Q?...?=`) in a header value. */
export function decodeMimeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}

/** The first header `name` (case-insensitive) of a raw RFC 5322 message, unfolded and decoded; '' when absent. */
export function mailHeader(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const wanted = name.toLowerCase();
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === wanted) return decodeMimeWords(line.slice(i + 1).trim());
  }
  return '';
}
