// A user's own tables: a CSV added with the file chooser becomes a dataset whose columns Lathe
// explains; a classifier and a regressor train on it, are evaluated, and predict (a form, and a
// CSV answered row by row). Bad files are refused by line and column with nothing stored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { jobView, numAttr, openApp, waitForState, WORKER_READY_TIMEOUT_MS } from './helpers';
import { classifierCsv, regressionCsv, regressionRowsCsv } from './fixtures/tables';
import { tempDir } from './fixtures/transfer';

function csvFile(name: string, text: string): { name: string; mimeType: string; buffer: Buffer } {
  return { name, mimeType: 'text/csv', buffer: Buffer.from(text) };
}

/** Adds a table through the setup's file chooser and waits until it is the selected dataset. */
async function addTable(page: Page, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  await page.getByTestId('table-file-input').setInputFiles(file);
  await expect(page.getByTestId('dataset-status')).toContainText('Added', { timeout: 30_000 });
  await expect(page.getByTestId('column-table')).toBeVisible();
  await expect(page.getByTestId('plan-summary')).not.toHaveAttribute('data-rows', '', { timeout: WORKER_READY_TIMEOUT_MS });
}

async function train(page: Page, epochs: number): Promise<void> {
  const input = page.getByTestId('epochs');
  await input.fill(String(epochs));
  await input.blur();
  await expect(page.getByTestId('config-errors')).toHaveCount(0);
  await page.getByTestId('train-button').click();
  await expect(jobView(page)).toBeVisible();
  await waitForState(page, 'completed', 120_000);
}

test('a CSV added from a file trains a classifier: the column table explains it, the confusion matrix shows, a form row is predicted', async ({ page }) => {
  test.setTimeout(150_000);
  await openApp(page, { backend: 'cpu' });
  await addTable(page, csvFile('grades.csv', classifierCsv()));

  // Lathe's reading of the columns: the id is ignored, the last column is the target, a classifier.
  const row = (name: string) => page.locator(`[data-testid=column-row][data-column="${name}"]`);
  await expect(row('id')).toHaveAttribute('data-type', 'ignored');
  await expect(row('width')).toHaveAttribute('data-type', 'numeric');
  await expect(row('colour')).toHaveAttribute('data-type', 'categorical');
  await expect(row('grade')).toHaveAttribute('data-type', 'target');
  await expect(page.getByTestId('task-select')).toHaveValue('classification');
  await expect(page.getByTestId('plan-summary')).toHaveAttribute('data-rows', '300');

  await train(page, 40);
  const view = jobView(page);
  expect(await numAttr(view, 'data-val-acc'), 'validation accuracy').toBeGreaterThan(0.8);

  await view.getByTestId('evaluate-button').click();
  const matrix = view.getByTestId('confusion-matrix');
  await expect(matrix).toBeVisible({ timeout: 30_000 });
  const cells = await matrix.getByTestId('confusion-cell').evaluateAll((els) =>
    els.map((e) => ({ actual: e.getAttribute('data-actual'), predicted: e.getAttribute('data-predicted'), n: Number(e.textContent) })),
  );
  expect(cells).toHaveLength(9);
  const total = cells.reduce((a, c) => a + c.n, 0);
  const right = cells.filter((c) => c.actual === c.predicted).reduce((a, c) => a + c.n, 0);
  expect(total, 'every validation row is counted once').toBe(60);
  expect(right / total).toBeGreaterThan(0.8);
  await expect(view.getByTestId('class-figures')).toContainText('high');

  // One row typed into the form: a wide, tall blue item is "high".
  await view.locator('[data-testid=predict-field][data-column="width"] input').fill('4.6');
  await view.locator('[data-testid=predict-field][data-column="height"] input').fill('3.4');
  await view.locator('[data-testid=predict-field][data-column="colour"] select').selectOption('blue');
  await view.getByTestId('predict-button').click();
  await expect(view.getByTestId('predict-output')).toHaveAttribute('data-predicted', 'high', { timeout: 30_000 });
});

test('a CSV trains a regressor: R² and the scatter plot show, and a CSV of rows comes back with predictions', async ({ page }) => {
  test.setTimeout(150_000);
  await openApp(page, { backend: 'cpu' });
  await addTable(page, csvFile('prices.csv', regressionCsv()));
  await expect(page.getByTestId('task-select')).toHaveValue('regression');
  // 8 sizes are missing: imputing keeps their rows.
  await page.getByTestId('missing-select').selectOption('impute');
  await expect(page.getByTestId('plan-summary')).toHaveAttribute('data-rows', '400');
  await expect(page.getByTestId('plan-summary')).toContainText('8 missing values imputed');

  await train(page, 60);
  const view = jobView(page);
  expect(await numAttr(view, 'data-val-r2'), 'validation R²').toBeGreaterThan(0.9);

  await view.getByTestId('evaluate-button').click();
  await expect(view.getByTestId('scatter-plot')).toBeVisible({ timeout: 30_000 });
  expect(await numAttr(view.getByTestId('scatter-plot'), 'data-points')).toBe(80);
  expect(await numAttr(view.getByTestId('residuals'), 'data-r2')).toBeGreaterThan(0.9);

  const download = page.waitForEvent('download');
  await view.getByTestId('predict-file-input').setInputFiles(csvFile('rows.csv', regressionRowsCsv()));
  const file = await download;
  const path = join(tempDir('predictions'), file.suggestedFilename());
  await file.saveAs(path);
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  expect(lines[0]).toBe('size,age,district,predicted price');
  expect(lines).toHaveLength(6);
  const predicted = lines.slice(1).map((l) => Number(l.split(',')[3]));
  const truth = [3 * 50 - 2 * 10, 3 * 120 - 2 * 5 + 80, 3 * 80 - 2 * 40 + 40, 3 * 100 - 2 * 20, 3 * 30 - 2 * 45 + 80];
  predicted.forEach((p, i) => expect(Math.abs(p - truth[i]!), `row ${i + 1}: ${p} vs about ${truth[i]}`).toBeLessThan(40));
  await expect(view.getByTestId('predict-file-status')).toContainText('rows.csv');

  // A file without a column the model needs is refused by name.
  await view.getByTestId('predict-file-input').setInputFiles(csvFile('bad.csv', 'size,district\n50,north\n'));
  await expect(view.getByTestId('predict-file-error')).toContainText('“age”');
});

test('a bad CSV is refused naming its line and column, and the dataset list does not change, also after a reload', async ({ page }) => {
  await openApp(page, { backend: 'cpu' });
  const rows = page.getByTestId('dataset-row');
  // The page stores the XOR sample as it starts: let that land first.
  await expect(page.getByTestId('plan-summary')).not.toHaveAttribute('data-rows', '', { timeout: WORKER_READY_TIMEOUT_MS });
  await expect(rows).toHaveCount(1);
  const before = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-dataset-id')));
  const cases: [string, Buffer, RegExp][] = [
    ['ragged.csv', Buffer.from('a,b,c\n1,2,3\n4,5\n6,7,8\n'), /Line 3/],
    ['empty.csv', Buffer.from(''), /empty/],
    ['only-header.csv', Buffer.from('a,b,c\n'), /header/i],
    ['single.csv', Buffer.from('a\n1\n2\n3\n'), /only one column/],
    ['photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]), /not a text table|binary|image/i],
  ];
  for (const [name, buffer, pattern] of cases) {
    await page.getByTestId('table-file-input').setInputFiles({ name, mimeType: 'text/csv', buffer });
    const error = page.getByTestId('dataset-error');
    await expect(error, name).toContainText(name);
    await expect(error, name).toContainText(pattern);
  }
  const after = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-dataset-id')));
  expect(after).toEqual(before);
  await page.reload();
  await expect(page.getByTestId('dataset-select')).toBeVisible();
  expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-dataset-id')))).toEqual(before);
});
