/**
 * The modes of the search space, defined once (docs/SEARCH_SPACE.md, "Modes and inputs").
 * Kept free of tfjs so that configuration code can import it cheaply.
 */

/** cls: softmax classification; bcls: binary sigmoid classification; reg: box regression from areas. */
export const MODES = ['cls', 'bcls', 'reg'] as const;
export type Mode = (typeof MODES)[number];
/** The classification modes (inputs [N, K] with the logits X). */
export type ClsMode = Exclude<Mode, 'reg'>;

/** The input variables of each mode, in the order the public implementation passes them. */
export const MODE_VARS: Record<Mode, readonly string[]> = {
  cls: ['X', 'Y', 'Z'],
  bcls: ['X', 'Q', 'PY', 'NY'],
  reg: ['U', 'I', 'E'],
};
