// Regenerates every tiny random-weight test model under public/models/ (npm run models:tiny).
import { writeTinyModels } from './tiny-models';

const root = process.argv[2] ?? 'public/models';
await writeTinyModels(root, (line) => console.log(line));
