// Pure page logic behind export, import and share: typed prediction rows, prediction wording, the
// share fallback's text, built-in sample detection and the share target's URL flag.
import { describe, expect, it } from 'vitest';
import {
  describeFiles, describePrediction, hasSharedFlag, parseRows, shareDescription, sharedFileName,
  withoutSharedFlag,
} from '../../src/lib/transfer-text';

describe('rows typed for a prediction', () => {
  it('one row per line, commas between values, blank lines and spaces ignored', () => {
    expect(parseRows('0.1, 0.9\n\n 1 ,0 \r\n-2.5e-1;3')).toEqual({ ok: true, rows: [[0.1, 0.9], [1, 0], [-0.25, 3]] });
  });

  it('a value that is not a number is named with its line', () => {
    expect(parseRows('1, 2\n3, abc')).toEqual({ ok: false, error: 'Line 2: “abc” is not a number.' });
  });

  it('a row of the wrong length says how many inputs the model takes', () => {
    expect(parseRows('1, 2, 3', 2)).toEqual({ ok: false, error: 'Line 1 has 3 values, but the model takes 2.' });
  });

  it('nothing typed asks for a row', () => {
    const parsed = parseRows('  \n ');
    expect(parsed.ok).toBe(false);
  });
});

describe('predictions in words', () => {
  it('classification names the class and its probability', () => {
    const lines = describePrediction({
      outputs: [[-3, 3]], probabilities: [[0.0024726, 0.9975274]], predicted: ['1'], normalized: true,
    });
    expect(lines).toEqual(['Row 1: 1 (p = 0.9975)']);
  });

  it('regression shows the value', () => {
    expect(describePrediction({ outputs: [[2.5]], probabilities: null, predicted: [2.5], normalized: false })).toEqual(['Row 1: 2.5']);
  });
});

describe('share and import wording', () => {
  it('the copied description names the file, its size and how to open it', () => {
    const text = shareDescription('xor.lathe', 2048, 'XOR', 120);
    expect(text).toMatch(/^xor\.lathe \(2\.0 KB\): the Lathe training package of “XOR” at step 120\. Open it in Lathe/);
  });


  it('files being imported are listed by name', () => {
    expect(describeFiles(['a.lathe'])).toBe('“a.lathe”');
    expect(describeFiles(['model.json', 'w.bin'])).toBe('2 files (“model.json”, “w.bin”)');
  });
});

describe('share target hand-off', () => {
  it('the flag is read from the query and removed without touching other parameters', () => {
    expect(hasSharedFlag('?backend=cpu&shared=1')).toBe(true);
    expect(hasSharedFlag('?shared=0')).toBe(false);
    expect(withoutSharedFlag('http://x.test/app/?backend=cpu&shared=1#top')).toBe('/app/?backend=cpu#top');
    expect(withoutSharedFlag('http://x.test/?shared=1')).toBe('/');
  });

  it('file names come URI-encoded in X-File-Name', () => {
    expect(sharedFileName('caf%C3%A9%20model.zip', 0)).toBe('café model.zip');
    expect(sharedFileName('100%.lathe', 0)).toBe('100%.lathe');
    expect(sharedFileName(null, 2)).toBe('shared file 3');
  });
});
