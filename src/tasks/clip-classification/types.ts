/** One zero-shot classification task: class names in label order and prompt templates (`{c}` = class name). */
export interface ClipClassificationData {
  readonly classnames: readonly string[];
  readonly templates: readonly string[];
}
