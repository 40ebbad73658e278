import { describe, expect, it } from '@jest/globals';
import { noticeEnd, parseRowsNotice } from './rows-notice.ts';

const row = (position: number, data = '{"a":1}'): string[] => [
  String(position),
  'order-1',
  String(position - 1),
  `id-${position}`,
  'Placed',
  data,
  '{}',
  '2026-12-07T23:59:59.123Z',
];

describe('a notice on the rows channel', () => {
  it('gives the events exactly as a read of the same rows would', () => {
    const payload = JSON.stringify({ to: 8, rows: [row(7), row(8, '{"z":"nul \\u0000","a":[1e21]}')] });
    expect(parseRowsNotice(payload)).toEqual({
      to: 8,
      events: [
        {
          id: 'id-7',
          streamId: 'order-1',
          revision: 6,
          position: 7,
          type: 'Placed',
          data: { a: 1 },
          metadata: {},
          recordedAt: '2026-12-07T23:59:59.123Z',
        },
        expect.objectContaining({ position: 8, data: { z: 'nul \u0000', a: [1e21] } }),
      ],
    });
  });

  it('may carry no rows: the positions up to `to` are committed, to be read', () => {
    expect(parseRowsNotice('{"to":12,"rows":[]}')).toEqual({ to: 12, events: [] });
  });

  it.each([
    ['not JSON', '{'],
    ['a bare position, as the previous version sent', '41'],
    ['no `to`', JSON.stringify({ rows: [row(1)] })],
    ['a `to` that is not a position', JSON.stringify({ to: -1, rows: [] })],
    ['rows that are not an array', JSON.stringify({ to: 1, rows: {} })],
    ['a row short of a field', JSON.stringify({ to: 1, rows: [row(1).slice(1)] })],
    ['a field that is not text', JSON.stringify({ to: 1, rows: [[1, ...row(1).slice(1)]] })],
    ['data that is not JSON', JSON.stringify({ to: 1, rows: [row(1, '{oops')] })],
    ['a gap between rows', JSON.stringify({ to: 3, rows: [row(1), row(3)] })],
    ['rows that end before `to`', JSON.stringify({ to: 3, rows: [row(1), row(2)] })],
  ])('is refused as null when it has %s: the follower reads instead', (_, payload) => {
    expect(parseRowsNotice(payload)).toBeNull();
  });

  it('tells the last position it covers from its head alone, or null when the head is not one', () => {
    expect(noticeEnd('{"to":42,"rows":[["not parsed"')).toBe(42);
    expect(noticeEnd('{"to":12,"rows":[]}')).toBe(12);
    expect(noticeEnd('41')).toBeNull();
    expect(noticeEnd('{"to":0,"rows":[]}')).toBeNull();
    expect(noticeEnd('{"to":-3,"rows":[]}')).toBeNull();
    expect(noticeEnd('{"to":99999999999999999,"rows":[]}')).toBeNull();
    expect(noticeEnd(' {"to":7,"rows":[]}')).toBeNull();
  });
});
