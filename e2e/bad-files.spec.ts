// Bad files: each import shows an error naming the problem, and the job list stays exactly as it was.
import { expect, test } from '@playwright/test';
import { listedJobIds, openApp, startTraining, waitForState } from './helpers';
import { byName, exportFiles, importThroughInput, tempDir, TINY_PNG, withFormatVersion, type GivenFile } from './fixtures/transfer';

test('bad files each show an error that names the problem, and the job list is unchanged', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page, { backend: 'cpu' });
  await startTraining(page, { dataset: 'sample:xor', epochs: 5 });
  await waitForState(page, 'completed', 60_000);
  // Real exports to damage: the bad files differ from good ones in one way each.
  const dir = tempDir('bad');
  const pkg = byName(await exportFiles(page, 'export-package', 1, dir), /\.lathe$/);
  const model = await exportFiles(page, 'export-model-files', 2, dir);
  const modelJson = byName(model, /^model\.json$/);
  const weights = byName(model, /\.bin$/);
  const before = await listedJobIds(page);
  expect(before).toHaveLength(1);

  const cases: { what: string; files: GivenFile[]; message: RegExp }[] = [
    {
      what: 'a truncated zip',
      files: [{ name: pkg.name, mimeType: 'application/zip', buffer: pkg.bytes.subarray(0, Math.floor(pkg.bytes.length / 2)) }],
      message: /is not a complete zip archive: it may be truncated or damaged/,
    },
    {
      what: 'invalid JSON',
      files: [
        { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('{"modelTopology": {') },
        { name: weights.name, mimeType: 'application/octet-stream', buffer: weights.bytes },
      ],
      message: /“model\.json” is not valid JSON/,
    },
    {
      what: 'weights whose size does not match the topology',
      files: [
        { name: 'model.json', mimeType: 'application/json', buffer: modelJson.bytes },
        { name: weights.name, mimeType: 'application/octet-stream', buffer: weights.bytes.subarray(0, weights.bytes.length - 8) },
      ],
      message: /The weight file “.*\.bin” has \d+ bytes, but “model\.json” describes \d+ bytes .*the weights do not match the model/,
    },
    {
      what: 'a package from a newer version',
      files: [{ name: 'from-the-future.lathe', mimeType: 'application/zip', buffer: withFormatVersion(pkg.bytes, 99) }],
      message: /made by a newer version of Lathe \(format 99\).*Update Lathe/,
    },
    {
      what: 'a wrong file type',
      files: [{ name: 'photo.lathe', mimeType: 'image/png', buffer: TINY_PNG }],
      message: /“photo\.lathe” is a PNG image, not a Lathe training package/,
    },
  ];

  for (const c of cases) {
    await test.step(c.what, async () => {
      await importThroughInput(page, c.files);
      const error = page.getByTestId('import-error');
      await expect(error, `${c.what}: the error names the problem`).toHaveText(c.message, { timeout: 30_000 });
      await expect(error).toHaveAttribute('role', 'alert');
      await expect(page.getByTestId('imported-model')).toHaveCount(0);
      expect(await listedJobIds(page), `${c.what}: the job list is unchanged`).toEqual(before);
    });
  }
  // Still unchanged after a reload: nothing was stored.
  await page.reload();
  await expect(page.getByTestId('job-row')).toHaveCount(1);
  expect(await listedJobIds(page)).toEqual(before);
});
