import type { Scheduler } from '../../../shared/params';
import type { DiffusionScheduler, SchedulerConfig } from './common';
import { DDIMScheduler, LCMScheduler } from './ddim';
import { DPMSolverMultistepScheduler } from './dpmpp';
import { EulerAncestralScheduler, EulerScheduler } from './euler';

export * from './common';
export { DDIMScheduler, LCMScheduler } from './ddim';
export { DPMSolverMultistepScheduler } from './dpmpp';
export { EulerAncestralScheduler, EulerScheduler } from './euler';

/** Build the sampler the user picked from the model's `scheduler_config.json`. */
export function createScheduler(name: Scheduler, config: SchedulerConfig): DiffusionScheduler {
  switch (name) {
    case 'euler':
      return new EulerScheduler(config);
    case 'euler-a':
      return new EulerAncestralScheduler(config);
    case 'ddim':
      return new DDIMScheduler(config);
    case 'dpmpp-2m-karras':
      return new DPMSolverMultistepScheduler(config, { karras: true });
    case 'lcm':
      return new LCMScheduler(config);
  }
}

/** The AUTOMATIC1111 sampler name, for the `parameters` text chunk. */
export const SAMPLER_LABEL: Record<Scheduler, string> = {
  euler: 'Euler',
  'euler-a': 'Euler a',
  ddim: 'DDIM',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM',
};
