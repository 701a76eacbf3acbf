/**
 * fusion_bench's `get_classnames_and_templates(task)`: the class names and prompt templates of each
 * image-classification task, by the names fusion_bench's CLIPTemplateFactory knows (its
 * `_dataset_mapping`, aliases included). The data modules load on first use: ImageNet's alone is 80
 * templates × 1000 classes.
 */
import { UserError } from '../../errors.js';
import type { ClipClassificationData } from './types.js';

export type { ClipClassificationData } from './types.js';

type Loader = () => Promise<{ data: ClipClassificationData }>;

const mnist: Loader = () => import('./mnist.js');
const stanfordCars: Loader = () => import('./stanford-cars.js');
const gtsrb: Loader = () => import('./gtsrb.js');
const resisc45: Loader = () => import('./resisc45.js');
const dtd: Loader = () => import('./dtd.js');
const eurosat: Loader = () => import('./eurosat.js');
const sun397: Loader = () => import('./sun397.js');
const renderedSst2: Loader = () => import('./rendered-sst2.js');
const stl10: Loader = () => import('./stl10.js');
const flower102: Loader = () => import('./flower102.js');
const oxfordPet: Loader = () => import('./oxford-iiit-pet.js');

/** Task name → data module, in fusion_bench's order. */
const TASKS: ReadonlyMap<string, Loader> = new Map<string, Loader>([
  ['mnist', mnist],
  ['stanford-cars', stanfordCars],
  ['stanford_cars', stanfordCars],
  ['tanganke/stanford_cars', stanfordCars],
  ['gtsrb', gtsrb],
  ['tanganke/gtsrb', gtsrb],
  ['resisc45', resisc45],
  ['tanganke/resisc45', resisc45],
  ['dtd', dtd],
  ['tanganke/dtd', dtd],
  ['eurosat', eurosat],
  ['tanganke/eurosat', eurosat],
  ['sun397', sun397],
  ['tanganke/sun397', sun397],
  ['cifar10', () => import('./cifar10.js')],
  ['svhn', () => import('./svhn.js')],
  ['cifar100', () => import('./cifar100.js')],
  ['nateraw/rendered-sst2', renderedSst2],
  ['rendered-sst2', renderedSst2],
  ['tanganke/stl10', stl10],
  ['stl10', stl10],
  ['dpdl-benchmark/oxford_flowers102', flower102],
  ['oxford_flowers102', flower102],
  ['timm/oxford-iiit-pet', oxfordPet],
  ['oxford-iiit-pet', oxfordPet],
  ['imagenet', () => import('./imagenet.js')],
  ['tiny-imagenet', () => import('./tiny-imagenet.js')],
  ['pcam', () => import('./pcam.js')],
  ['fer2013', () => import('./fer2013.js')],
  ['emnist_mnist', () => import('./emnist-mnist.js')],
  ['emnist_letters', () => import('./emnist-letters.js')],
  ['kmnist', () => import('./kmnist.js')],
  ['food101', () => import('./food101.js')],
  ['fashion_mnist', () => import('./fashion-mnist.js')],
  ['cub-200-2011', () => import('./cub-200-2011.js')],
  // fusion_bench maps this name to a module file it misspells (mongo_leaf_disease.py), so Python fails
  // to load it; the data is that file's.
  ['mango-leaf-disease', () => import('./mango-leaf-disease.js')],
]);

/** Every task name with class names and templates. */
export function knownClassificationTasks(): string[] {
  return [...TASKS.keys()];
}

export function hasClassificationTask(name: string): boolean {
  return TASKS.has(name);
}

/** The task's class names and templates; an unknown name is a UserError listing the known ones. */
export async function getClassnamesAndTemplates(name: string): Promise<ClipClassificationData> {
  const load = TASKS.get(name);
  if (!load) {
    throw new UserError(
      `Unknown classification task '${name}': no class names and prompt templates are known for it. ` +
        `The task names in test_datasets must be one of: ${knownClassificationTasks().join(', ')}`,
    );
  }
  return (await load()).data;
}

/** The prompts for one class, in template order (fusion_bench's `[template(c) for template in templates]`). */
export function classPrompts(templates: readonly string[], classname: string): string[] {
  // split/join, not replace: a class name containing `$&` must be inserted literally.
  return templates.map((t) => t.split('{c}').join(classname));
}
