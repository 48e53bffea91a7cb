import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandLineText, wholeCharactersLength } from '../../src/proc/command-line-text.js';

describe('command lines as events report them', () => {
  test('argv\'s NULs become spaces, trailing NULs go, an empty argument shows as two spaces',
    () => {
      const argv = Buffer.from('perl\0-e\0\0print 1\0\0\0', 'latin1');
      assert.equal(commandLineText(argv, argv.length), 'perl -e  print 1');
    });

  // "€" is E2 82 AC, "é" C3 A9, "𝄞" F0 9D 84 9E (RFC 3629).
  const cuts: Array<[string, string, number, string]> = [
    ['a cut inside a three-byte character drops its start', 'ab€', 4, 'ab'],
    ['a cut after its second byte too', 'ab€', 3, 'ab'],
    ['a whole three-byte character stays', 'ab€', 5, 'ab€'],
    ['a cut inside a four-byte character', 'a𝄞', 4, 'a'],
    ['a cut inside a two-byte character', 'aé', 2, 'a'],
    ['ASCII is never shortened', 'abc', 2, 'ab'],
  ];
  for (const [name, text, cutAt, expected] of cuts) {
    test(name, () => {
      const bytes = Buffer.from(text, 'utf8');
      const length = wholeCharactersLength(bytes, cutAt);
      assert.equal(bytes.toString('utf8', 0, length), expected);
    });
  }
});
