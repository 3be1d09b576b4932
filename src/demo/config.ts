/** The small conv net's settings (no imports: the `demo` command's option defaults read them at start-up). */
export interface SmallNetConfig {
  batch: number;
  size: number; // input side
  channels: [number, number, number];
  classes: number;
  lr: number;
  seed: number;
}

export const DEFAULT_SMALLNET: SmallNetConfig = { batch: 16, size: 64, channels: [16, 32, 64], classes: 10, lr: 0.05, seed: 1 };
