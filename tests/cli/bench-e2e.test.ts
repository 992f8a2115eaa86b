/**
 * `ssd-edge bench-e2e` on a small SSD300 (width 0.125, one timed run): the report's structure,
 * positive figures, the tables built from it, and bad options. No timing assertions: the
 * figures depend on the machine and its load.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatBenchE2e, runBenchE2e, type BenchE2eReport } from '../../src/cli/bench-e2e.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const PHOTO = fileURLToPath(new URL('../../../samples/dog.jpg', import.meta.url));

describe('ssd-edge bench-e2e', () => {
  let report: BenchE2eReport;
  let progress: string;
  before(async () => {
    // thread counts given, so the rows are the same on any machine
    const { stdout, stderr } = await run(process.execPath, [
      CLI,
      'bench-e2e',
      '--width',
      '0.125',
      '--runs',
      '1',
      '--threads',
      '1,2',
      '--image',
      '320x240',
      '--json',
    ]);
    report = JSON.parse(stdout) as BenchE2eReport;
    progress = stderr;
  });

  it('--json reports every backend and thread count with positive stage times', () => {
    assert.deepEqual(
      report.rows.map((r) => `${r.backend}/${r.threads}`),
      ['node/1', 'node/2', 'wasm/1', 'wasm/2'],
    );
    assert.deepEqual(report.image, { width: 320, height: 240 });
    assert.equal(report.model.width, 0.125);
    assert.equal(report.model.numClasses, 21);
    assert.ok(report.model.parameters! > 0 && report.model.onnxBytes > 4 * report.model.parameters!);
    assert.equal(report.runs, 1);
    assert.equal(report.auto.backend, 'node'); // onnxruntime-node is a dev dependency
    assert.ok(Number.isInteger(report.auto.threads) && report.auto.threads >= 1);
    for (const row of report.rows) {
      const where = `${row.backend}, ${row.threads} threads`;
      for (const key of ['preprocess', 'inference', 'postprocess', 'total'] as const) {
        assert.ok(Number.isFinite(row[key]) && row[key] > 0, `${where}: ${key} is ${row[key]}`);
      }
      assert.ok(row.total >= row.inference, `${where}: total ${row.total} < inference ${row.inference}`);
      assert.ok(row.prePostPercent > 0 && row.prePostPercent < 100, `${where}: pre + post ${row.prePostPercent}%`);
      assert.ok(Number.isInteger(row.detections) && row.detections >= 0, `${where}: ${row.detections} detections`);
      assert.match(row.runtime, row.backend === 'node' ? /^onnxruntime-node \d/ : /^onnxruntime-web \d/);
    }
  });

  it('prints progress on stderr', () => {
    assert.match(progress, /exported: [\d.]+ MiB/);
    assert.match(progress, /auto picks node/);
    assert.match(progress, /wasm, 2 threads: total [\d.]+ ms/);
  });

  it('formats a Markdown table: a header, its rule, one row per configuration', () => {
    const lines = formatBenchE2e(report, true).split('\n');
    const table = lines.filter((line) => line.startsWith('|'));
    assert.equal(table.length, 2 + report.rows.length);
    assert.equal(
      table[0],
      '| backend | threads | pre-processing ms | inference ms | post-processing ms | total ms | pre + post | detections |',
    );
    assert.equal(table[1], '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    table.slice(2).forEach((line, i) => {
      const cells = line.slice(2, -2).split(' | ');
      assert.equal(cells.length, 8, line);
      assert.deepEqual(cells.slice(0, 2), [report.rows[i].backend, String(report.rows[i].threads)]);
      assert.match(cells[6], /^\d+\.\d\d%$/);
    });
    assert.match(
      lines[0],
      /^SSD300 width 0\.125 .* one 320×240 RGB image, one run after 2 warm-up runs\. auto picks node/,
    );
    assert.match(lines.at(-1)!, /^Machine: .*Node v\d+.*onnxruntime-node .*onnxruntime-web/);
  });

  it('formats an aligned text table', () => {
    const lines = formatBenchE2e(report, false).split('\n');
    const header = lines.findIndex((line) => line.startsWith('backend'));
    const table = lines.slice(header, header + 1 + report.rows.length);
    assert.ok(
      table.every((line) => line.length === table[0].length),
      table.join('\n'),
    );
    assert.match(table[1], /^node +1 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+% +\d+$/);
  });

  it('rejects bad options with a RangeError naming the option', async () => {
    const cases: [string[], RegExp][] = [
      [['--runs', '0'], /--runs/],
      [['--runs', '2.5'], /--runs/],
      [['--width', '1.5'], /--width/],
      [['--width', '0'], /--width is '0'; it must be in \(0, 1\]/],
      [['--backends', 'node,webgpu'], /--backends has 'webgpu'/],
      [['--threads', '1,0'], /--threads has '0'/],
      [['--image', '640'], /--image is '640'/],
      [['--image', '100000x100000'], /--image is '100000x100000'.*at most/],
      [['--markdown', '--json'], /--markdown and --json/],
    ];
    for (const [argv, message] of cases) {
      await assert.rejects(
        runBenchE2e(argv),
        (error: Error) => error instanceof RangeError && message.test(error.message),
      );
    }
    await assert.rejects(runBenchE2e(['--fast']), /unknown option --fast/);
  });

  it('--model times a real model on a real photo: the built-in COCO detector, with its name in the caption', async () => {
    const { stdout } = await run(process.execPath, [
      CLI,
      'bench-e2e',
      '--model',
      'ssd-mobilenet-v2-coco',
      '--photo',
      PHOTO,
      '--backends',
      'node',
      '--threads',
      '1',
      '--runs',
      '1',
      '--json',
    ]);
    const coco = JSON.parse(stdout) as BenchE2eReport;
    assert.deepEqual(coco.model, { name: 'ssd-mobilenet-v2-coco', numClasses: 91, onnxBytes: coco.model.onnxBytes });
    assert.ok(coco.model.onnxBytes > 6e6, `${coco.model.onnxBytes} bytes`);
    assert.equal(coco.photo, PHOTO);
    assert.equal(coco.rows.length, 1);
    assert.ok(coco.rows[0].detections >= 1, 'the dog photo has objects');
    assert.equal(coco.rows[0].variant, undefined);
    assert.match(
      formatBenchE2e(coco, true).split('\n')[0],
      /^ssd-mobilenet-v2-coco \(91 classes, 6\.0 MiB\), .*dog\.jpg \(\d+×\d+, decoded before timing\)/,
    );
  });

  it('puts a model column first when several conversions are timed', () => {
    const twin: BenchE2eReport = {
      ...report,
      rows: report.rows.slice(0, 2).map((r, i) => ({ ...r, variant: i ? 'float' : 'exact' })),
    };
    const table = formatBenchE2e(twin, true)
      .split('\n')
      .filter((line) => line.startsWith('|'));
    assert.match(table[0], /^\| model \| backend \| threads \|/);
    assert.match(table[1], /^\| --- \| --- \| ---: \|/);
    assert.match(table[3], /^\| float \| node \| 2 \|/);
  });
});
