/**
 * A small command-line parser: `--name value`, `--flag`, and positionals. Unknown options are
 * errors that list the known ones, so a typo never silently falls back to a default.
 */

export interface OptionSpec {
  /** 'string' takes a value; 'boolean' is a flag. */
  type: 'string' | 'boolean';
  description: string;
  /**
   * A flag that may carry a value: `--name=value` always, and `--name value` when the next
   * argument matches this pattern (so `--json out.json` names a file, `--json photo.jpg` does not).
   */
  optionalValue?: RegExp;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>, command: string): ParsedArgs {
  const positionals: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const option = spec[name];
    if (!option) {
      throw new Error(`${command}: unknown option --${name}; options: ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    }
    if (option.type === 'boolean') {
      if (option.optionalValue && inline !== undefined) {
        if (inline === '') throw new Error(`${command}: --${name}= needs a value after '=' (${option.description})`);
        options[name] = inline;
      } else if (option.optionalValue && i + 1 < argv.length && option.optionalValue.test(argv[i + 1])) {
        options[name] = argv[++i];
      } else {
        options[name] = true;
      }
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new Error(`${command}: --${name} needs a value (${option.description})`);
    }
    options[name] = value;
  }
  return { positionals, options };
}

/** A numeric option: undefined when absent, a RangeError naming the option when not a number in range. */
export function numberOption(options: ParsedArgs['options'], name: string, min = -Infinity, max = Infinity): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`--${name} is '${String(raw)}'; it must be a number in [${min}, ${max}]`);
  }
  return value;
}

/** Usage lines for a command's options. */
export function describeOptions(spec: Record<string, OptionSpec>): string {
  return Object.entries(spec)
    .map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : o.optionalValue ? ' [file]' : ''}`.padEnd(28) + o.description)
    .join('\n');
}
