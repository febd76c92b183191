import { countSmsSegments, smsEncoding } from '../../src/delivery/sms-segments';

const a = (n: number) => 'a'.repeat(n);

describe('SMS segments', () => {
  test.each([
    ['empty', '', 'GSM-7', 0, 0],
    ['160 GSM chars fit one segment', a(160), 'GSM-7', 160, 1],
    ['161 GSM chars need two (153 + 8)', a(161), 'GSM-7', 161, 2],
    ['306 GSM chars fill exactly two', a(306), 'GSM-7', 306, 2],
    ['307 GSM chars need three', a(307), 'GSM-7', 307, 3],
    ['extension chars count 2: 80 x euro = 160', '€'.repeat(80), 'GSM-7', 160, 1],
    ['81 x euro = 162 septets, 76 per concatenated segment', '€'.repeat(81), 'GSM-7', 162, 2],
    ['escape never straddles: 152 + (2) + 152 = 306 but needs 3', `${a(152)}€${a(152)}`, 'GSM-7', 306, 3],
    ['basic-table accents stay GSM-7', 'Café Ñandù ÄÖÜ äöü ß', 'GSM-7', 20, 1],
    ['one non-GSM char switches to UCS-2', `${a(69)}ç`, 'UCS-2', 70, 1],
    ['71 UCS-2 units need two (67 + 4)', '☕'.repeat(71), 'UCS-2', 71, 2],
    ['emoji are surrogate pairs: 35 emoji = 70 units', '😀'.repeat(35), 'UCS-2', 70, 1],
    ['surrogate pairs never straddle: 67 emoji = 134 units but 33 per segment', '😀'.repeat(67), 'UCS-2', 134, 3],
  ])('%s', (_name, text, encoding, units, segments) => {
    const info = countSmsSegments(text);
    expect(info.encoding).toBe(encoding);
    expect(info.units).toBe(units);
    expect(info.segments).toBe(segments);
  });

  test('per-segment capacity: 160/70 single, 153/67 concatenated', () => {
    expect(countSmsSegments(a(10)).perSegment).toBe(160);
    expect(countSmsSegments(a(200)).perSegment).toBe(153);
    expect(countSmsSegments('☕').perSegment).toBe(70);
    expect(countSmsSegments('☕'.repeat(100)).perSegment).toBe(67);
  });

  test('encoding detection', () => {
    expect(smsEncoding('Reply STOP to opt out. {}[]~|^\\')).toBe('GSM-7');
    expect(smsEncoding('Ç')).toBe('GSM-7');
    expect(smsEncoding('ú')).toBe('UCS-2'); // ù is GSM, ú is not
    expect(smsEncoding('ç')).toBe('UCS-2'); // only the capital is in the GSM basic table
    expect(smsEncoding('it’s')).toBe('UCS-2'); // typographic apostrophe
    expect(smsEncoding('\u001b')).toBe('UCS-2'); // the escape itself is not text
  });
});
