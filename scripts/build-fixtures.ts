/** Build the model fixtures (once; cached by builder hash) and print their paths as JSON. */
import { ensureFixtures } from './fixtures/index';

ensureFixtures().then(
  (paths) => console.log(JSON.stringify(paths, null, 2)),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
