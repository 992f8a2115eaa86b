/**
 * `ssd-edge generate-data --out dir`: writes the procedural shapes dataset in the PASCAL VOC
 * layout (JPEGImages, Annotations, ImageSets/Main/trainval.txt and test.txt), the data the
 * project trains on here with nothing downloaded.
 */
import { describeOptions, integerOption, parseArgs, type OptionSpec } from './args.js';
import { progressBar } from './progress.js';

const OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', description: 'the dataset directory to write (required)' },
  train: { type: 'string', description: 'training images (default 2000)' },
  test: { type: 'string', description: 'held-out images (default 500)' },
  seed: { type: 'string', description: 'seed; the same seed writes the same files (default 1)' },
  size: { type: 'string', description: 'image side in pixels (default 300)' },
  force: { type: 'boolean', description: 'replace the dataset in a non-empty --out (moved in only once complete)' },
};

export const GENERATE_DATA_USAGE = `ssd-edge generate-data --out dir [options]\n${describeOptions(OPTIONS)}`;

export async function runGenerateData(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'generate-data');
  if (positionals.length > 0)
    throw new Error(`generate-data: unexpected '${positionals[0]}'\n\nusage: ${GENERATE_DATA_USAGE}`);
  const out = options.out as string | undefined;
  if (!out) throw new Error(`generate-data: --out is required\n\nusage: ${GENERATE_DATA_USAGE}`);
  const integer = (name: string, fallback: number, min: number, max: number) =>
    integerOption(options, name, min, max) ?? fallback;
  const trainCount = integer('train', 2000, 0, 1e7),
    testCount = integer('test', 500, 0, 1e7);
  const progress = progressBar(trainCount + testCount, 'generate-data');
  const { generateVocDataset } = await import('../train/data/index.js');
  const result = await generateVocDataset(
    out,
    {
      trainCount,
      testCount,
      seed: integer('seed', 1, -(2 ** 31), 2 ** 31 - 1),
      size: integer('size', 300, 16, 4096),
      force: options.force === true,
    },
    () => progress.tick(''),
  );
  progress.done();
  console.log(
    `wrote ${out}: ${result.trainCount} training and ${result.testCount} held-out images, ` +
      `${result.objects} objects (${result.difficult} difficult), classes ${result.classes.join(', ')}, ` +
      `in ${result.seconds.toFixed(1)} s`,
  );
}
