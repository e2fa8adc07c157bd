/** Command-line options of `npm run bench` (bench/anchor-bench.ts). */
import type { SyntheticPresetName } from '../src/attention/synthetic';

export const SYNTHETIC_PRESET_NAMES: SyntheticPresetName[] = ['sink-local', 'heavy-columns', 'needle', 'mixed'];
export const FULL_SIZES = [1024, 2048, 4096, 8192];
export const QUICK_SIZES = [1024, 2048];

export interface BenchOptions {
  sizes: number[];
  /** Timed runs per configuration after one warm-up run; the median is reported. */
  repeat: number;
  thetas: number[];
  presets: SyntheticPresetName[];
  /** Seed of the synthetic heads, the model prompt's token ids and the recall row sample. */
  seed: number;
  /** Head dimension of the synthetic heads. */
  syntheticHeadDim: number;
  /** Tiny model folders under public/models; empty for none. */
  models: string[];
  /** Layer whose heads are captured; undefined for the model's last layer. */
  modelLayer?: number;
  /** Query heads of a model kept at most (rounded to whole GQA groups); undefined for all. */
  modelHeads?: number;
  /** Largest N at which model inputs run, which also bounds the CPU capture. */
  modelMaxSize: number;
  /** Sizes at or above this are capped to capPresets and capHeads, to keep software adapters in budget. */
  capFrom: number;
  capPresets: SyntheticPresetName[];
  capHeads: number;
  /** Timed runs at capped sizes; undefined for `repeat`. */
  capRepeat?: number;
  kvDtype: 'f32' | 'f16';
  /** Time with CPU wall clock even where timestamp queries exist. */
  cpuTiming: boolean;
  outDir: string;
  /** Recall sample per head: the last rows plus a seeded random sample of the others. */
  recallLast: number;
  recallRandom: number;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  sizes: FULL_SIZES,
  repeat: 3,
  thetas: [12, 6],
  presets: SYNTHETIC_PRESET_NAMES,
  seed: 1,
  syntheticHeadDim: 64,
  models: ['tiny-qwen2'],
  modelMaxSize: Infinity,
  capFrom: Infinity,
  capPresets: SYNTHETIC_PRESET_NAMES,
  capHeads: Number.MAX_SAFE_INTEGER,
  kvDtype: 'f32',
  cpuTiming: false,
  outDir: 'bench/results',
  recallLast: 16,
  recallRandom: 48,
};

export const USAGE = `Usage: npm run bench -- [options]

AnchorAttention prefill against the dense kernel on this machine's WebGPU adapter (Dawn in Node;
VK_ICD_FILENAMES selects the Vulkan driver).

  --quick                 sizes 1024 and 2048 only
  --sizes LIST            prompt lengths N, comma-separated (default ${FULL_SIZES.join(',')})
  --repeat N              timed runs after one warm-up; the median is reported (default ${DEFAULT_OPTIONS.repeat})
  --thetas LIST           thresholds theta in nats (default ${DEFAULT_OPTIONS.thetas.join(',')})
  --presets LIST          synthetic presets, or "none" (default ${SYNTHETIC_PRESET_NAMES.join(',')})
  --seed N                seed of synthetic heads, prompt token ids and recall rows (default ${DEFAULT_OPTIONS.seed})
  --synthetic-head-dim N  head dimension of synthetic heads (default ${DEFAULT_OPTIONS.syntheticHeadDim})
  --models LIST           tiny models under public/models, or "none" (default ${DEFAULT_OPTIONS.models.join(',')})
  --model-layer N         layer whose Q/K/V are captured (default: the last layer)
  --model-heads N         keep at most N query heads of a model, in whole GQA groups (default: all)
  --model-max-size N      run model inputs only at N <= this; the CPU capture stops there too (default: no limit)
  --cap-from N            sizes >= N are capped by the three options below (default: no size is capped)
  --cap-presets LIST      synthetic presets kept at capped sizes, or "none" (default: all)
  --cap-heads N           model query heads kept at capped sizes, in whole GQA groups (default: all)
  --cap-repeat N          timed runs at capped sizes (default: --repeat)
  --kv-dtype f32|f16      KV-cache storage (default ${DEFAULT_OPTIONS.kvDtype})
  --cpu-timing            time with CPU wall clock even where timestamp queries exist
  --out DIR               where the .json and .md records go (default ${DEFAULT_OPTIONS.outDir})
  --recall-rows LAST,RANDOM  recall sample per head (default ${DEFAULT_OPTIONS.recallLast},${DEFAULT_OPTIONS.recallRandom})
  --help                  print this text
`;

function integer(flag: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < min) {
    throw new Error(`${flag} must be an integer >= ${min}, got ${text === undefined ? 'nothing' : `"${text}"`}`);
  }
  return value;
}

function integerList(flag: string, text: string | undefined, min: number): number[] {
  if (text === undefined || text === '') throw new Error(`${flag} needs a comma-separated list of integers >= ${min}`);
  return text.split(',').map((part) => integer(flag, part.trim(), min));
}

function presetList(flag: string, text: string | undefined): SyntheticPresetName[] {
  if (text === undefined || text === '') throw new Error(`${flag} needs a comma-separated list of presets or "none"`);
  if (text === 'none') return [];
  return text.split(',').map((part) => {
    const name = part.trim() as SyntheticPresetName;
    if (!SYNTHETIC_PRESET_NAMES.includes(name)) throw new Error(`${flag}: unknown preset "${part}"; use ${SYNTHETIC_PRESET_NAMES.join(', ')} or none`);
    return name;
  });
}

/** Parses the command line; returns null when --help was given. Throws on an invalid option. */
export function parseBenchOptions(argv: string[]): BenchOptions | null {
  const options: BenchOptions = { ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--help':
        return null;
      case '--quick':
        options.sizes = QUICK_SIZES;
        break;
      case '--sizes':
        options.sizes = integerList(flag, value(), 2);
        break;
      case '--repeat':
        options.repeat = integer(flag, value(), 1);
        break;
      case '--thetas': {
        const text = value();
        const thetas = (text ?? '').split(',').map((part) => Number(part.trim()));
        if (!text || thetas.some((theta) => Number.isNaN(theta) || theta < 0)) {
          throw new Error(`--thetas needs a comma-separated list of numbers >= 0 (nats), got "${text ?? ''}"`);
        }
        options.thetas = thetas;
        break;
      }
      case '--presets':
        options.presets = presetList(flag, value());
        break;
      case '--seed':
        options.seed = integer(flag, value(), 0);
        break;
      case '--synthetic-head-dim':
        options.syntheticHeadDim = integer(flag, value(), 8);
        break;
      case '--models': {
        const text = value();
        if (!text) throw new Error('--models needs a comma-separated list of folders under public/models, or "none"');
        options.models = text === 'none' ? [] : text.split(',').map((part) => part.trim());
        break;
      }
      case '--model-layer':
        options.modelLayer = integer(flag, value(), 0);
        break;
      case '--model-heads':
        options.modelHeads = integer(flag, value(), 1);
        break;
      case '--model-max-size':
        options.modelMaxSize = integer(flag, value(), 2);
        break;
      case '--cap-from':
        options.capFrom = integer(flag, value(), 2);
        break;
      case '--cap-presets':
        options.capPresets = presetList(flag, value());
        break;
      case '--cap-heads':
        options.capHeads = integer(flag, value(), 1);
        break;
      case '--cap-repeat':
        options.capRepeat = integer(flag, value(), 1);
        break;
      case '--kv-dtype': {
        const text = value();
        if (text !== 'f32' && text !== 'f16') throw new Error(`--kv-dtype must be f32 or f16, got "${text ?? ''}"`);
        options.kvDtype = text;
        break;
      }
      case '--cpu-timing':
        options.cpuTiming = true;
        break;
      case '--out': {
        const text = value();
        if (!text) throw new Error('--out needs a folder');
        options.outDir = text;
        break;
      }
      case '--recall-rows': {
        const [last, random] = integerList(flag, value(), 0);
        if (random === undefined || last + random === 0) throw new Error('--recall-rows needs LAST,RANDOM with at least one row in all');
        options.recallLast = last;
        options.recallRandom = random;
        break;
      }
      default:
        throw new Error(`unknown option "${flag}"; run with --help for the list`);
    }
  }
  options.sizes = [...new Set(options.sizes)].sort((a, b) => a - b);
  return options;
}
