/** Build every model fixture (once; cached by builder hash) and print their paths as JSON. */
import { ensureImageFixtures } from './fixtures/image';
import { ensureFixtures } from './fixtures/index';

Promise.all([ensureFixtures(), ensureImageFixtures()]).then(
  ([models, images]) => console.log(JSON.stringify({ ...models, ...images, root: models.root, imageRoot: images.root }, null, 2)),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
